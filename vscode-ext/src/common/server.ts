/**
 * Starts, restarts and stops the bundled language server (`<python> -I -S bundled/tool/lsp_server.py`,
 * which puts bundled/libs first on sys.path), and relays its custom requests and notifications.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import type * as LanguageClientModule from 'vscode-languageclient/node';
import type { CloseHandlerResult, LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { Commands, DISPLAY_NAME, NAME } from './constants';
import { errorText, log } from './log';
import type { RunsChangedParams } from './protocol';
import { Methods } from './protocol';
import type { Interpreter } from './python';
import { resolveInterpreter, versionCache } from './python';
import { serverSettings } from './settings';
import type { VersionCache } from './versionCache';

/** `failed`: it did not start, or crashed too often; `noPython`: no usable interpreter. */
export type ServerState = 'starting' | 'running' | 'stopped' | 'failed' | 'noPython';

const ENTRY_SCRIPT = 'bundled/tool/lsp_server.py';
const SERVER_FLAGS = ['-I', '-S', '-X', 'utf8'];

type ClientModule = typeof LanguageClientModule;

/**
 * vscode-languageclient is most of the bundle; loading it only when the server starts keeps
 * its initialisation out of activation.
 */
function loadClientModule(): Promise<ClientModule> {
  return import('vscode-languageclient/node');
}

const STOP_TIMEOUT_MS = 3000;
/** A server that crashes more often than this within CRASH_WINDOW_MS is not restarted. */
const MAX_CRASHES = 4;
const CRASH_WINDOW_MS = 3 * 60_000;

export class FlowscribeServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private lc: ClientModule | undefined;
  private current: ServerState = 'stopped';
  private interpreter: Interpreter | undefined;
  /** Start/stop steps run one after the other, never interleaved. */
  private queue: Promise<void> = Promise.resolve();
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  private readonly runsChangedEmitter = new vscode.EventEmitter<RunsChangedParams>();
  private readonly clientDisposables: vscode.Disposable[] = [];

  /** Fires on every state change (the views and the status bar follow it). */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires on the server's `flowscribe/runsChanged` notification. */
  readonly onRunsChanged = this.runsChangedEmitter.event;

  /** Whether the first diagnostics since activation were logged (with how long they took). */
  private firstDiagnosticsSeen = false;
  private readonly versions: VersionCache;
  private crashes: number[] = [];
  /** Set when a crashing server is no longer restarted. */
  private gaveUp = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    /** performance.now() when activation began, for the "first diagnostics" timing. */
    private readonly activatedAt: number,
  ) {
    this.versions = versionCache(context.globalState);
  }

  get state(): ServerState {
    return this.current;
  }

  get python(): Interpreter | undefined {
    return this.interpreter;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  /**
   * Sends a custom request once any pending start has finished. Resolves to undefined when the
   * server is not running or the request fails (logged): callers show an empty state.
   */
  async request<R>(method: string, params: object, token?: vscode.CancellationToken): Promise<R | undefined> {
    await this.queue;
    const client = this.client;
    if (!client || !client.isRunning()) {
      return undefined;
    }
    const t0 = Date.now();
    try {
      // No `undefined` token argument: vscode-jsonrpc would then send [params, null] as the params.
      const result = await (token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params));
      log.debug(`${method} answered in ${Date.now() - t0} ms`);
      return result;
    } catch (err) {
      if (!token?.isCancellationRequested) {
        log.warn(`${method} failed: ${errorText(err)}`);
      }
      return undefined;
    }
  }

  /**
   * Tells a running server the settings changed. It carries none: the server asks for each
   * workspace folder's (`workspace/configuration` with the folder as scope), so a multi-root
   * workspace's folders keep settings of their own.
   */
  async sendSettings(): Promise<void> {
    const client = this.client;
    if (client?.isRunning() && this.lc) {
      await client.sendNotification(this.lc.DidChangeConfigurationNotification.type, { settings: null });
    }
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.runsChangedEmitter.dispose();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step, step);
    this.queue = next.catch((err: unknown) => log.error(`server: ${errorText(err)}`));
    return this.queue;
  }

  private setState(state: ServerState): void {
    if (state !== this.current) {
      this.current = state;
      log.debug(`server state: ${state}`);
      this.stateEmitter.fire(state);
    }
  }

  private async doStart(retrying = false): Promise<void> {
    const t0 = Date.now();
    this.gaveUp = false;
    this.setState('starting');
    const script = this.context.asAbsolutePath(ENTRY_SCRIPT);
    if (!fs.existsSync(script)) {
      log.error(`The bundled server is missing (${script}); the extension was built without bundled/. Run scripts/bundle_python.py.`);
      this.setState('failed');
      return;
    }
    // Loading vscode-languageclient overlaps with finding Python (the probe is another process).
    const loading = this.lc ? Promise.resolve(this.lc) : loadClientModule();
    loading.catch(() => undefined); // awaited below; this only keeps an early return quiet
    const { interpreter, refused } = await resolveInterpreter(this.versions);
    this.interpreter = interpreter;
    if (!interpreter) {
      this.setState('noPython');
      void this.notifyNoPython(refused.length > 0);
      return;
    }
    const fromSetting = refused.find((r) => r.candidate.source === 'setting');
    if (fromSetting && interpreter.source !== 'setting') {
      void this.notifySettingIgnored(fromSetting.candidate.command, fromSetting.why, interpreter.command);
    }

    const serverOptions: ServerOptions = {
      // The binary the probe reported: a pyenv shim is not run (and paid for) a second time.
      command: interpreter.executable,
      // -I: ignore PYTHON* variables, user site-packages and the current directory, so the
      // workspace cannot shadow the bundled libraries (the entry script puts bundled/libs first).
      // -S: no site-packages at all (nothing there is used; their .pth files cost start-up time).
      // -X utf8: UTF-8 I/O whatever the locale (PYTHONUTF8 would be ignored under -I).
      args: [...SERVER_FLAGS, script],
      options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir() },
    };
    const lc = (this.lc ??= await loading);
    const client = new lc.LanguageClient(NAME, DISPLAY_NAME, serverOptions, this.clientOptions(lc));
    this.client = client;
    this.clientDisposables.push(
      client.onNotification(Methods.runsChanged, (params: RunsChangedParams) => this.runsChangedEmitter.fire(params)),
      client.onDidChangeState((e) => {
        if (e.newState === lc.State.Stopped && this.client === client) {
          this.setState(this.gaveUp ? 'failed' : 'stopped');
        } else if (e.newState === lc.State.Running && this.client === client) {
          this.setState('running');
        }
      }),
    );
    log.info(`Starting the server: ${interpreter.executable} ${SERVER_FLAGS.join(' ')} ${script}`);
    let failure: unknown;
    try {
      await client.start();
    } catch (err) {
      failure = err;
    }
    // start() can also settle without an error when the connection closes during start-up.
    if (failure === undefined && client.isRunning()) {
      this.setState('running');
      log.info(`Server running (Python ${interpreter.version}) ${Date.now() - t0} ms after the start was asked for.`);
      return;
    }
    log.error(`The server did not start${failure === undefined ? '' : `: ${errorText(failure)}`}`);
    await this.doStop();
    if (interpreter.cached && !retrying) {
      // The cached version may be stale (e.g. a pyenv shim now runs another Python): probe again.
      log.info(`Forgetting the cached version of ${interpreter.command} and trying again.`);
      await this.versions.delete(interpreter.command, interpreter.cwd);
      await this.doStart(true);
      return;
    }
    this.setState('failed');
  }


  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientDisposables.splice(0).forEach((d) => {
      d.dispose();
    });
    if (client) {
      try {
        // dispose() stops a running client first; one that never started only needs disposing.
        await client.dispose(STOP_TIMEOUT_MS);
      } catch (err) {
        log.debug(`Stopping the server: ${errorText(err)}`);
      }
    }
    this.setState('stopped');
  }

  private clientOptions(lc: ClientModule): LanguageClientOptions {
    // The window's settings until the server has asked for each folder's.
    const settings = serverSettings();
    return {
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: 'file', pattern: '**/{ra,flows}.yaml' },
      ],
      // clientCommands: the lenses' flowscribe.revealFlow and showTimeline are ours to run
      // (docs/lsp-protocol.md); other editors' lenses get the server's own flowscribe.showFlow.
      initializationOptions: { ...settings, clientCommands: [Commands.revealFlow, Commands.showTimeline] },
      outputChannel: this.output,
      revealOutputChannelOn: lc.RevealOutputChannelOn.Never,
      // File watching: the server registers its own watchers (workspace/didChangeWatchedFiles,
      // dynamically), as it does with every client; the client adds none of its own.
      middleware: {
        handleDiagnostics: (uri, diagnostics, next) => {
          if (!this.firstDiagnosticsSeen && diagnostics.length > 0) {
            this.firstDiagnosticsSeen = true;
            log.info(`First diagnostics ${(performance.now() - this.activatedAt).toFixed(0)} ms after activation.`);
          }
          next(uri, diagnostics);
        },
      },
      errorHandler: {
        error: (_error, _message, count) => ({
          action: (count ?? 0) <= 3 ? lc.ErrorAction.Continue : lc.ErrorAction.Shutdown,
        }),
        closed: () => this.onConnectionClosed(lc),
      },
      initializationFailedHandler: (err) => {
        log.error(`The server failed to initialize: ${errorText(err)}`);
        return false;
      },
    };
  }

  /**
   * The connection closed without a stop from us. During start-up doStart handles it (and may
   * retry with another interpreter); a running server that crashed is restarted, a few times.
   */
  private onConnectionClosed(lc: ClientModule): CloseHandlerResult {
    if (this.current !== 'running') {
      return { action: lc.CloseAction.DoNotRestart, handled: true };
    }
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.crashes.push(now);
    if (this.crashes.length <= MAX_CRASHES) {
      log.warn('The server stopped unexpectedly; restarting it.');
      return { action: lc.CloseAction.Restart, handled: true };
    }
    const message = `The flowscribe server stopped ${this.crashes.length} times in 3 minutes and is not restarted. See the "flowscribe" output; "flowscribe: Restart Server" tries again.`;
    log.error(message);
    this.gaveUp = true;
    return { action: lc.CloseAction.DoNotRestart, handled: false, message };
  }

  private async notifyNoPython(triedSome: boolean): Promise<void> {
    const pick = 'Select Interpreter';
    const showLog = 'Show Log';
    const detail = triedSome ? ' None of the interpreters found works (see the log).' : ' None was found.';
    const answer = await vscode.window.showErrorMessage(
      `flowscribe needs Python 3.9 or newer to run its language server.${detail} Failures, lenses and the Flows view stay empty until you pick one; ask.md and the run artifacts still open.`,
      pick,
      showLog,
    );
    if (answer === pick) {
      await vscode.commands.executeCommand(Commands.selectInterpreter);
    } else if (answer === showLog) {
      log.show();
    }
  }

  private async notifySettingIgnored(configured: string, why: string, used: string): Promise<void> {
    const pick = 'Select Interpreter';
    const answer = await vscode.window.showWarningMessage(
      `flowscribe.python.interpreter (${configured}) is not usable: ${why}. Using ${used} instead.`,
      pick,
    );
    if (answer === pick) {
      await vscode.commands.executeCommand(Commands.selectInterpreter);
    }
  }
}
