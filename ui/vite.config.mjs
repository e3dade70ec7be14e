// Builds the dashboard's front end (ui/) into dist/ui/ with fixed names: the daemon serves them from there.
import { fileURLToPath, URL } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rollupOptions: {
      input: fileURLToPath(new URL('./main.ts', import.meta.url)),
      output: { entryFileNames: 'app.js', assetFileNames: 'app[extname]' },
    },
  },
});
