/** Typed context helpers: the root component provides the StudioState, every component below reads it. */
import { createContext } from 'svelte';
import type { StudioState } from './studio.svelte.ts';

const [getStudioContext, setStudioContext] = createContext<StudioState>();

/** The studio state of this window (call during component initialisation). */
export function useStudio(): StudioState {
  return getStudioContext();
}

/** Provides the studio state to the component tree (the root component calls this once). */
export function provideStudio(studio: StudioState): StudioState {
  return setStudioContext(studio);
}
