// Vite builds the page offline from the pinned npm packages (package-lock.json) into datalicense/webpage: package
// data, so the wheel carries it and datalicense/web.py serves it wherever the package is installed; no CDN at run time.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: { outDir: '../datalicense/webpage', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
