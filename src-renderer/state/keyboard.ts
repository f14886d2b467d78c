/**
 * The studio's keyboard shortcuts as a pure map from a key press to an action name, so the table is testable in
 * Node and the component that listens to `keydown` only dispatches. Cmd on macOS and Ctrl elsewhere are one
 * "primary" modifier.
 */

/** What the studio can do from the keyboard. */
export type ShortcutAction =
  | 'play-pause'
  | 'stop'
  | 'go-start'
  | 'go-end'
  | 'split'
  | 'delete'
  | 'undo'
  | 'redo'
  | 'save'
  | 'duplicate'
  | 'select-all'
  | 'deselect'
  | 'nudge-left'
  | 'nudge-right'
  | 'nudge-left-fine'
  | 'nudge-right-fine'
  | 'toggle-snap'
  | 'toggle-loop'
  | 'zoom-in'
  | 'zoom-out'
  | 'zoom-fit';

/** The parts of a keyboard event the map reads (a DOM KeyboardEvent fits). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/**
 * What kind of element has the focus: `text` fields own plain keys and editing chords; `button`s (and checkboxes)
 * keep Enter (Space stays the transport, as in every DAW); `slider`s (range inputs, selects) own the arrow keys
 * and Home/End.
 */
export type FocusKind = 'text' | 'button' | 'slider' | 'none';

/** Where the key press happened. */
export interface KeyContext {
  /** macOS uses Cmd as the primary modifier, everything else Ctrl. */
  mac: boolean;
  focus: FocusKind;
}

/** One row of the shortcut table, for the help list and tooltips. */
export interface ShortcutHelp {
  action: ShortcutAction;
  keys: string;
  description: string;
}

/** The action for a key press, or null when the studio ignores it (the browser or the focused field handles it). */
export function resolveShortcut(press: KeyPress, context: KeyContext): ShortcutAction | null {
  const primary = context.mac ? press.metaKey : press.ctrlKey;
  // The other platform modifier (Ctrl on macOS) never forms studio chords, so the browser keeps its own.
  const foreign = context.mac ? press.ctrlKey : press.metaKey;
  const key = press.key.length === 1 ? press.key.toLowerCase() : press.key;

  if (primary && !foreign && !press.altKey) {
    // Saving works everywhere, also while typing a prompt.
    if (key === 's' && !press.shiftKey) return 'save';
    if (context.focus === 'text') return null;
    if (key === 'z') return press.shiftKey ? 'redo' : 'undo';
    if (key === 'y' && !press.shiftKey && !context.mac) return 'redo';
    if (key === 'd' && !press.shiftKey) return 'duplicate';
    if (key === 'a' && !press.shiftKey) return 'select-all';
    if (key === '=' || key === '+') return 'zoom-in';
    if (key === '-' || key === '_') return 'zoom-out';
    if (key === '0') return 'zoom-fit';
    return null;
  }
  if (context.focus === 'text' || primary || foreign || press.altKey) return null;
  const ownsKeys = context.focus === 'slider';

  switch (key) {
    case ' ':
      // Like every DAW, Space is the transport even on a focused button (Enter still activates buttons).
      return 'play-pause';
    case 'Home':
    case 'End':
    case 'ArrowLeft':
    case 'ArrowRight':
      if (ownsKeys) return null;
      break;
  }
  switch (key) {
    case 'Home':
      return 'go-start';
    case 'End':
      return 'go-end';
    case 's':
      return press.shiftKey ? null : 'split';
    case 'Delete':
    case 'Backspace':
      return 'delete';
    case 'Escape':
      return 'deselect';
    case 'ArrowLeft':
      return press.shiftKey ? 'nudge-left-fine' : 'nudge-left';
    case 'ArrowRight':
      return press.shiftKey ? 'nudge-right-fine' : 'nudge-right';
    case 'n':
      return press.shiftKey ? null : 'toggle-snap';
    case 'l':
      return press.shiftKey ? null : 'toggle-loop';
    case '+':
    case '=':
      return 'zoom-in';
    case '-':
    case '_':
      return 'zoom-out';
    case '.':
      return 'stop';
    default:
      return null;
  }
}

/** The shortcut table shown in the help popover and used for tooltips. */
export function shortcutHelp(mac: boolean): ShortcutHelp[] {
  const mod = mac ? '⌘' : 'Ctrl+';
  return [
    { action: 'play-pause', keys: 'Space', description: 'Play / pause from the playhead' },
    { action: 'stop', keys: '.', description: 'Stop and return to where playback started' },
    { action: 'go-start', keys: 'Home', description: 'Playhead to the start' },
    { action: 'go-end', keys: 'End', description: 'Playhead to the end of the last region' },
    { action: 'split', keys: 'S', description: 'Split the selected regions at the playhead' },
    { action: 'delete', keys: 'Delete / Backspace', description: 'Delete the selected regions' },
    { action: 'duplicate', keys: `${mod}D`, description: 'Duplicate the selected regions' },
    { action: 'undo', keys: `${mod}Z`, description: 'Undo' },
    { action: 'redo', keys: mac ? '⇧⌘Z' : 'Ctrl+Shift+Z / Ctrl+Y', description: 'Redo' },
    { action: 'save', keys: `${mod}S`, description: 'Save the project' },
    { action: 'select-all', keys: `${mod}A`, description: 'Select every region' },
    { action: 'deselect', keys: 'Esc', description: 'Clear the selection' },
    { action: 'nudge-left', keys: '← / →', description: 'Nudge the selection by one grid step' },
    { action: 'nudge-left-fine', keys: 'Shift+← / →', description: 'Nudge the selection finely' },
    { action: 'toggle-snap', keys: 'N', description: 'Snapping on / off' },
    { action: 'toggle-loop', keys: 'L', description: 'Loop the selection on / off' },
    { action: 'zoom-in', keys: '+ / −', description: 'Zoom in / out (also Ctrl+wheel)' },
    { action: 'zoom-fit', keys: `${mod}0`, description: 'Zoom to fit the project' },
  ];
}

/** The element facts `focusKind` reads (a DOM Element fits). */
export interface FocusTarget {
  tagName?: string;
  type?: string;
  isContentEditable?: boolean;
  role?: string | null;
}

const BUTTON_INPUTS = ['button', 'checkbox', 'radio', 'color', 'submit', 'reset', 'file', 'image'];

/** Which keys the focused element keeps for itself (see FocusKind). */
export function focusKind(target: FocusTarget | null): FocusKind {
  if (target === null) return 'none';
  if (target.isContentEditable === true) return 'text';
  const tag = (target.tagName ?? '').toLowerCase();
  if (tag === 'textarea') return 'text';
  if (tag === 'select') return 'slider';
  // NOTE: only native buttons activate on Space; a region (role="button" on a div) leaves Space to the transport.
  if (tag === 'button' || tag === 'summary') return 'button';
  if (target.role === 'slider' || target.role === 'listbox') return 'slider';
  if (tag !== 'input') return 'none';
  const type = (target.type ?? 'text').toLowerCase();
  if (type === 'range') return 'slider';
  if (BUTTON_INPUTS.includes(type)) return 'button';
  return 'text';
}
