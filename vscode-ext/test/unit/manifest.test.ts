/**
 * package.json is the one source of ids: these checks catch a menu, a welcome link or a
 * walkthrough step naming a command that does not exist, and version pins vsce or code-server
 * would refuse.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pkg from '../../package.json';
import { Commands, Settings, Views, WALKTHROUGH_ID } from '../../src/common/constants';

const root = join(__dirname, '..', '..');
const declared = new Set(pkg.contributes.commands.map((c) => c.command));
/** Commands of VS Code itself that the manifest links to. */
const BUILT_IN = new Set(['flowscribe.flows.focus', 'workbench.action.openWalkthrough']);

function commandLinks(text: string): string[] {
  return [...text.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1] ?? '');
}

describe('package.json', () => {
  it('declares exactly the commands the extension registers', () => {
    assert.deepEqual([...declared].sort(), Object.values(Commands).sort());
  });

  it('has every menu entry name a declared command', () => {
    for (const [menu, entries] of Object.entries(pkg.contributes.menus)) {
      for (const entry of entries) {
        assert.ok(declared.has(entry.command), `${menu}: ${entry.command}`);
      }
    }
  });

  it('links only to declared or built-in commands from welcome views and the walkthrough', () => {
    const texts = [
      ...pkg.contributes.viewsWelcome.map((w) => w.contents),
      ...pkg.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => s.description)),
    ];
    const links = texts.flatMap(commandLinks);
    assert.ok(links.length > 0);
    for (const id of links) {
      assert.ok(declared.has(id) || BUILT_IN.has(id), id);
    }
  });

  it('names views and the walkthrough as the code expects', () => {
    assert.deepEqual(Views, { flows: 'flowscribe.flows', runs: 'flowscribe.runs' });
    assert.equal(WALKTHROUGH_ID, 'flowscribe.flowscribe#getStarted');
    for (const key of Object.values(Settings)) {
      assert.ok(`flowscribe.${key}` in pkg.contributes.configuration.properties, key);
    }
  });

  it('draws the activity-bar icon as VS Code wants it: 24x24, monochrome, currentColor', () => {
    const svg = readFileSync(join(root, pkg.contributes.viewsContainers.activitybar[0]?.icon ?? ''), 'utf8');
    assert.match(svg, /viewBox="0 0 24 24"/);
    assert.match(svg, /stroke="currentColor"/);
    // No colour of its own: the theme colours it (a fixed grey vanishes on light themes).
    assert.doesNotMatch(svg, /#[0-9a-f]{3,6}\b|rgb\(/i);
    assert.deepEqual([...new Set([...svg.matchAll(/(?:fill|stroke)="([^"]+)"/g)].map((m) => m[1]))].sort(), ['currentColor', 'none']);
  });

  it('ships the files it points to', () => {
    const media = [
      pkg.contributes.viewsContainers.activitybar[0]?.icon ?? '',
      ...pkg.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => s.media.markdown)),
    ];
    for (const file of media) {
      assert.ok(existsSync(join(root, file)), file);
    }
    // The schemas are copied from the runtime package at build time (scripts/bundle_python.py).
    for (const v of pkg.contributes.yamlValidation) {
      const name = v.url.replace('./schemas/', '');
      assert.ok(existsSync(join(root, '..', 'py_server', 'flowscribe', 'schema', name)), name);
    }
    const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8');
    for (const kept of ['!dist/extension.js', '!bundled/**', '!schemas/*.json', '!media/**', '!walkthrough/**']) {
      assert.ok(ignore.includes(kept), kept);
    }
  });

  it('pins @types/vscode at or below engines.vscode (vsce refuses otherwise)', () => {
    const engine = pkg.engines.vscode.replace(/^\^/, '').split('.').map(Number);
    const types = pkg.devDependencies['@types/vscode'].replace(/^\^/, '').split('.').map(Number);
    assert.ok(
      (types[0] ?? 0) * 1e6 + (types[1] ?? 0) * 1e3 <= (engine[0] ?? 0) * 1e6 + (engine[1] ?? 0) * 1e3,
      `${pkg.devDependencies['@types/vscode']} > ${pkg.engines.vscode}`,
    );
    // code-server 4.139.1 carries VS Code 1.139.1: the extension must not ask for more.
    assert.ok((engine[1] ?? 0) <= 139);
  });

  it('activates on the workspace markers and Python files', () => {
    for (const event of ['workspaceContains:.autodev', 'workspaceContains:**/flows.yaml', 'onLanguage:python']) {
      assert.ok(pkg.activationEvents.includes(event), event);
    }
  });
});
