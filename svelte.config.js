// Svelte compiler options, read by @sveltejs/vite-plugin-svelte and svelte-check. Svelte 5 strips TypeScript types
// itself; vitePreprocess is kept for <style> blocks (and TS features beyond type annotations, if ever used).
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    runes: true,
  },
};
