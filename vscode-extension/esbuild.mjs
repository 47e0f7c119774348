// Bundles the extension into one file (dist/extension.js) so the VSIX ships no node_modules.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');

await esbuild.build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: 'dist/extension.js',
  // Provided by VS Code at run time.
  external: ['vscode'],
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
});
