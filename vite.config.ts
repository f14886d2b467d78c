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
import { defineConfig, type Plugin, type ProxyOptions } from 'vite';
import { META_CONTENT_SECURITY_POLICY } from './src-main/app/csp.ts';

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
    // here because the dev server listens on loopback and every connection still needs the per-run token. It also
    // refuses a Host other than its own (DNS rebinding), so both routes send the target's (changeOrigin).
    '/rpc': { target, ws: true, rewriteWsOrigin: true, changeOrigin: true },
    '/assets': { target, changeOrigin: true },
  };
}

/** What src-renderer/index.html holds in its CSP meta tag's `content` until the build fills in the policy. */
const CSP_PLACEHOLDER = '__TESSERA_CONTENT_SECURITY_POLICY__';

/**
 * Fills the CSP meta tag of index.html (placed right after the charset: a meta policy covers only what comes
 * after it) from src-main/app/csp.ts, the policy Electron also sends as a header, so the two cannot differ. In
 * browser mode the host's own header policy applies as well; a page must satisfy both, and this one needs nothing
 * more than `'self'` there (the page, its WebSocket and its /assets are one origin).
 */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'tessera-content-security-policy',
    transformIndexHtml: {
      order: 'pre',
      handler(html) {
        if (!html.includes(CSP_PLACEHOLDER)) throw new Error(`index.html has no CSP meta tag with content="${CSP_PLACEHOLDER}"; put it back right after <meta charset>`);
        return html.replace(CSP_PLACEHOLDER, META_CONTENT_SECURITY_POLICY.replace(/&/g, '&amp;').replace(/"/g, '&quot;'));
      },
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [svelte({ configFile: svelteConfig }), contentSecurityPolicy()],
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
