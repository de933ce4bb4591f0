// Vite builds the page offline from the pinned npm packages (package-lock.json) into web/dist, which
// datalicense/web.py serves; no CDN at run time.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
