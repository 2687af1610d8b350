/**
 * The "flowscribe" output channel, filtered by the `flowscribe.log.level` setting. The server's
 * own stderr goes to the same channel (see server.ts).
 */
import type * as vscode from 'vscode';

export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';

const RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };

let channel: vscode.OutputChannel | undefined;
let level: LogLevel = 'info';

export function initLog(output: vscode.OutputChannel, initial: string): void {
  channel = output;
  setLogLevel(initial);
}

export function setLogLevel(value: string): void {
  level = value in RANK ? (value as LogLevel) : 'info';
}

export function logLevel(): LogLevel {
  return level;
}

function stamp(): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function write(at: Exclude<LogLevel, 'off'>, message: string): void {
  if (channel && RANK[at] <= RANK[level]) {
    channel.appendLine(`[${at.padEnd(5)} ${stamp()}] ${message}`);
  }
}

export const log = {
  error: (message: string): void => write('error', message),
  warn: (message: string): void => write('warn', message),
  info: (message: string): void => write('info', message),
  debug: (message: string): void => write('debug', message),
  show: (): void => channel?.show(true),
};

/** The message of anything thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
