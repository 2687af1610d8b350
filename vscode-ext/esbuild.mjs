// Bundles the extension into dist/extension.js (and, with --tests, the unit tests into out/test/).
// Usage: node esbuild.mjs [--production] [--tests] [--watch]
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const tests = process.argv.includes('--tests');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: watch ? 'info' : 'warning',
};

const options = tests
  ? {
      ...common,
      // Unit tests cover the editor-free modules only: importing 'vscode' there is a build error.
      entryPoints: readdirSync('test/unit')
        .filter((f) => f.endsWith('.test.ts'))
        .map((f) => `test/unit/${f}`),
      outdir: 'out/test',
      sourcemap: 'inline',
      // protocol.test reads protocol.ts with the compiler: load it from node_modules as is.
      external: ['typescript'],
    }
  : {
      ...common,
      entryPoints: ['src/extension.ts'],
      outfile: 'dist/extension.js',
      // Lets activate() log how long running the bundle's top level took.
      banner: { js: 'var __flowscribeLoadStart = performance.now(), __flowscribeLoadMs;' },
      footer: { js: '__flowscribeLoadMs = performance.now() - __flowscribeLoadStart;' },
      external: ['vscode'],
      minify: production,
      sourcemap: !production,
      sourcesContent: false,
    };

// The Run Timeline webview's script: a second entry, for the browser, into media/.
const webview = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  logLevel: common.logLevel,
  entryPoints: ['src/timeline/webview/main.ts'],
  outfile: 'media/timeline.js',
  minify: production,
};
const builds = tests ? [options] : [options, webview];

if (watch) {
  for (const b of builds) {
    const ctx = await esbuild.context(b);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
