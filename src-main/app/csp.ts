/**
 * The renderer's Content-Security-Policy, the one source for both ways it reaches the page: the response header
 * that window.ts adds through the Electron session, and a `<meta http-equiv>` tag that vite.config.ts writes into
 * the built index.html, because the header hook may not run for responses of the custom `tessera://` scheme.
 * No imports: vite.config.ts loads this file at build time.
 */

/** The scheme takes are fetched through (issue 4 §4). */
export const ASSET_SCHEME = 'studio-asset';

/**
 * Scripts only from the app (no eval, no inline), audio and peaks from the asset protocol and blobs. Inline styles
 * are allowed because Svelte sets style attributes.
 */
const DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  `img-src 'self' data: blob:`,
  `media-src 'self' blob: ${ASSET_SCHEME}:`,
  `connect-src 'self' ${ASSET_SCHEME}:`,
  "font-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
];

/** The whole policy, as the response header carries it. */
export const CONTENT_SECURITY_POLICY = DIRECTIVES.join('; ');

/**
 * The policy for the page's meta tag: the header's less `frame-ancestors`, which browsers ignore (and warn about)
 * in a meta tag; framing stays forbidden by the header and, in browser mode, by X-Frame-Options.
 */
export const META_CONTENT_SECURITY_POLICY = DIRECTIVES.filter((d) => !d.startsWith('frame-ancestors')).join('; ');
