/**
 * Injected by the `npm start` bundle (esbuild `--inject` with `--define:import.meta.url=importMetaUrl`): the CommonJS
 * bundle has no `import.meta`, and host code resolves onnxruntime-node with `createRequire(import.meta.url)`.
 * Only bundles that use `import.meta.url` include it (never the sandboxed preload).
 */
import { pathToFileURL } from 'node:url';

/** The URL of the running bundle file, standing in for `import.meta.url`. */
export const importMetaUrl = pathToFileURL(__filename).href;
