/**
 * Builds the renderer (src-renderer, Svelte 5) into dist/renderer. `base: './'` keeps every URL in the output
 * relative, so the same build loads from `tessera://app/` in Electron and from `/` over HTTP in browser mode.
 *
 * Dev server: with `TESSERA_HOST=http://127.0.0.1:<port>` (the host `npm run web` prints), `/rpc` (WebSocket) and
 * `/assets` are proxied to it, so `vite` serves the UI with hot reload while the host serves the StudioApi. Open
 * the dev server's URL with the host's `?token=…` appended.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type ProxyOptions } from 'vite';

const root = fileURLToPath(new URL('./src-renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/renderer', import.meta.url));
// NOTE: the plugin looks for svelte.config.js in the Vite root (src-renderer); it lives at the repo root, where
// svelte-check and eslint-plugin-svelte find it too.
const svelteConfig = fileURLToPath(new URL('./svelte.config.js', import.meta.url));

/** The dev-server proxy to a running host, or none when TESSERA_HOST is unset. */
function hostProxy(host: string | undefined): Record<string, ProxyOptions> | undefined {
  if (host === undefined || host === '') return undefined;
  if (!/^https?:\/\/[^/]+\/?$/.test(host)) {
    throw new Error(`TESSERA_HOST must be an origin like http://127.0.0.1:5178, got '${host}'`);
  }
  const target = host.replace(/\/$/, '');
  return {
    // NOTE: the host accepts WebSocket origins of its own port only; rewriting the origin to the target is safe
    // here because the dev server listens on loopback and every connection still needs the per-run token.
    '/rpc': { target, ws: true, rewriteWsOrigin: true },
    '/assets': { target },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [svelte({ configFile: svelteConfig })],
  build: {
    outDir,
    emptyOutDir: true,
    // NOTE: not Vite's default `assets/`: the host serves project files (takes, peaks) under /assets/ (token-checked).
    assetsDir: 'static',
    target: 'es2022',
    sourcemap: true,
    // Loaded from disk (Electron) or loopback (browser mode), never over a slow network: one ~0.5 MB chunk with
    // Tone.js is fine, so warn only well above it.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    host: '127.0.0.1',
    proxy: hostProxy(process.env.TESSERA_HOST),
  },
});
