/**
 * Every id the extension uses, read from package.json so the manifest stays the one source:
 * a command or view renamed there without a matching change here fails at load, not silently.
 */
import pkg from '../../package.json';

export const EXTENSION_ID = `${pkg.publisher}.${pkg.name}`;
/** Configuration section, output channel name and id prefix. */
export const NAME = pkg.name;
export const DISPLAY_NAME = pkg.displayName;
export const VERSION = pkg.version;

const declaredCommands = new Set(pkg.contributes.commands.map((c) => c.command));

function command(suffix: string): string {
  const id = `${pkg.name}.${suffix}`;
  if (!declaredCommands.has(id)) {
    throw new Error(`command ${id} is not declared in package.json`);
  }
  return id;
}

function view(name: string): string {
  const found = pkg.contributes.views.flowscribe.find((v) => v.name === name);
  if (!found) {
    throw new Error(`view "${name}" is not declared in package.json`);
  }
  return found.id;
}

export const Commands = {
  restartServer: command('restartServer'),
  openAskInChat: command('openAskInChat'),
  askAboutFailure: command('askAboutFailure'),
  revealFlow: command('revealFlow'),
  refresh: command('refresh'),
  openCatalogEntry: command('openCatalogEntry'),
  showLastFailure: command('showLastFailure'),
  showFlowEvents: command('showFlowEvents'),
  openSummary: command('openSummary'),
  openAsk: command('openAsk'),
  openTrace: command('openTrace'),
  showTimeline: command('showTimeline'),
  compareWithPrevious: command('compareWithPrevious'),
  selectInterpreter: command('selectInterpreter'),
  showLog: command('showLog'),
  openQuickstart: command('openQuickstart'),
} as const;

export const Views = {
  flows: view('Flows'),
  runs: view('Runs'),
} as const;

export const WALKTHROUGH_ID = `${EXTENSION_ID}#${pkg.contributes.walkthroughs[0].id}`;

/** Context keys read by `when` clauses in package.json. */
export const ContextKeys = {
  serverState: `${pkg.name}.serverState`,
} as const;

/** Settings keys below the `flowscribe` section. */
export const Settings = {
  artifactsDir: 'artifactsDir',
  interpreter: 'python.interpreter',
  markers: 'markers',
  diagnosticsEnabled: 'diagnostics.enabled',
  minSeverity: 'diagnostics.minSeverity',
  lensesEnabled: 'lenses.enabled',
  logLevel: 'log.level',
} as const;

const declaredSettings = new Set(Object.keys(pkg.contributes.configuration.properties));
for (const key of Object.values(Settings)) {
  if (!declaredSettings.has(`${pkg.name}.${key}`)) {
    throw new Error(`setting ${pkg.name}.${key} is not declared in package.json`);
  }
}

/** Scheme of the read-only documents listing a flow's events. */
export const EVENTS_SCHEME = `${pkg.name}-events`;

/** Scheme of the read-only documents comparing two runs. */
export const COMPARE_SCHEME = `${pkg.name}-compare`;

/**
 * flowscribe's one prompt budget (flowscribe.story's DEFAULT_BUDGET_TOKENS and CHARS_PER_TOKEN;
 * a test keeps them equal). The runtime fits ask.md to it and the server its failure prompts,
 * so their text reaches Chat as written; only a prompt built here, when the server cannot
 * answer, is capped to it.
 */
export const PROMPT_BUDGET_TOKENS = 4_000;
export const CHARS_PER_TOKEN = 3.5;
export const PROMPT_CAP_CHARS = Math.floor(PROMPT_BUDGET_TOKENS * CHARS_PER_TOKEN);
