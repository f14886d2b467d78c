/** The shortcut table: each key maps to its action, chords follow the platform, text fields keep their keys. */
import { describe, expect, it } from 'vitest';
import { focusKind, resolveShortcut, shortcutHelp, type FocusKind, type KeyPress } from '../../../src-renderer/state/keyboard.ts';

const press = (key: string, mods: Partial<Omit<KeyPress, 'key'>> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});
const pc = (focus: FocusKind = 'none') => ({ mac: false, focus });
const mac = (focus: FocusKind = 'none') => ({ mac: true, focus });

describe('resolveShortcut', () => {
  it('maps the plain keys of the transport and the editor', () => {
    expect(resolveShortcut(press(' '), pc())).toBe('play-pause');
    expect(resolveShortcut(press('Home'), pc())).toBe('go-start');
    expect(resolveShortcut(press('End'), pc())).toBe('go-end');
    expect(resolveShortcut(press('s'), pc())).toBe('split');
    expect(resolveShortcut(press('S'), pc())).toBe('split');
    expect(resolveShortcut(press('Delete'), pc())).toBe('delete');
    expect(resolveShortcut(press('Backspace'), pc())).toBe('delete');
    expect(resolveShortcut(press('n'), pc())).toBe('toggle-snap');
    expect(resolveShortcut(press('+'), pc())).toBe('zoom-in');
    expect(resolveShortcut(press('='), pc())).toBe('zoom-in');
    expect(resolveShortcut(press('-'), pc())).toBe('zoom-out');
    expect(resolveShortcut(press('Escape'), pc())).toBe('deselect');
  });

  it('nudges by the grid with arrows and finely with Shift', () => {
    expect(resolveShortcut(press('ArrowLeft'), pc())).toBe('nudge-left');
    expect(resolveShortcut(press('ArrowRight'), pc())).toBe('nudge-right');
    expect(resolveShortcut(press('ArrowLeft', { shiftKey: true }), pc())).toBe('nudge-left-fine');
    expect(resolveShortcut(press('ArrowRight', { shiftKey: true }), pc())).toBe('nudge-right-fine');
  });

  it('uses Ctrl on Windows/Linux and Cmd on macOS for chords', () => {
    expect(resolveShortcut(press('z', { ctrlKey: true }), pc())).toBe('undo');
    expect(resolveShortcut(press('Z', { ctrlKey: true, shiftKey: true }), pc())).toBe('redo');
    expect(resolveShortcut(press('y', { ctrlKey: true }), pc())).toBe('redo');
    expect(resolveShortcut(press('s', { ctrlKey: true }), pc())).toBe('save');
    expect(resolveShortcut(press('d', { ctrlKey: true }), pc())).toBe('duplicate');
    expect(resolveShortcut(press('z', { metaKey: true }), mac())).toBe('undo');
    expect(resolveShortcut(press('z', { metaKey: true, shiftKey: true }), mac())).toBe('redo');
    expect(resolveShortcut(press('s', { metaKey: true }), mac())).toBe('save');
    expect(resolveShortcut(press('d', { metaKey: true }), mac())).toBe('duplicate');
    // The other platform's modifier is left to the browser.
    expect(resolveShortcut(press('z', { metaKey: true }), pc())).toBeNull();
    expect(resolveShortcut(press('z', { ctrlKey: true }), mac())).toBeNull();
    expect(resolveShortcut(press('s', { ctrlKey: true }), mac())).toBeNull();
  });

  it('does not split or delete on chords that merely contain the key', () => {
    expect(resolveShortcut(press('s', { altKey: true }), pc())).toBeNull();
    expect(resolveShortcut(press('Delete', { ctrlKey: true }), pc())).toBeNull();
    expect(resolveShortcut(press('q', { ctrlKey: true }), pc())).toBeNull();
    expect(resolveShortcut(press('x'), pc())).toBeNull();
  });

  it('leaves every key but save to a focused text field', () => {
    for (const key of [' ', 's', 'Delete', 'Backspace', 'ArrowLeft', 'Home', 'n', '+']) {
      expect(resolveShortcut(press(key), pc('text'))).toBeNull();
    }
    expect(resolveShortcut(press('z', { ctrlKey: true }), pc('text'))).toBeNull();
    expect(resolveShortcut(press('d', { ctrlKey: true }), pc('text'))).toBeNull();
    expect(resolveShortcut(press('s', { ctrlKey: true }), pc('text'))).toBe('save');
    expect(resolveShortcut(press('s', { metaKey: true }), mac('text'))).toBe('save');
  });

  it('leaves arrows and Home/End to sliders, but keeps Space as the transport on buttons', () => {
    expect(resolveShortcut(press('ArrowLeft'), pc('slider'))).toBeNull();
    expect(resolveShortcut(press('Home'), pc('slider'))).toBeNull();
    expect(resolveShortcut(press('s'), pc('slider'))).toBe('split');
    expect(resolveShortcut(press(' '), pc('button'))).toBe('play-pause');
    expect(resolveShortcut(press('ArrowLeft'), pc('button'))).toBe('nudge-left');
  });
});

describe('focusKind', () => {
  it('tells text fields, buttons and sliders apart', () => {
    expect(focusKind(null)).toBe('none');
    expect(focusKind({ tagName: 'INPUT', type: 'text' })).toBe('text');
    expect(focusKind({ tagName: 'INPUT', type: 'number' })).toBe('text');
    expect(focusKind({ tagName: 'INPUT' })).toBe('text');
    expect(focusKind({ tagName: 'TEXTAREA' })).toBe('text');
    expect(focusKind({ tagName: 'DIV', isContentEditable: true })).toBe('text');
    expect(focusKind({ tagName: 'INPUT', type: 'range' })).toBe('slider');
    expect(focusKind({ tagName: 'SELECT' })).toBe('slider');
    expect(focusKind({ tagName: 'INPUT', type: 'checkbox' })).toBe('button');
    expect(focusKind({ tagName: 'BUTTON' })).toBe('button');
    expect(focusKind({ tagName: 'DIV', role: 'button' })).toBe('none');
    expect(focusKind({ tagName: 'BODY' })).toBe('none');
  });
});

describe('shortcutHelp', () => {
  it('names the platform modifier', () => {
    expect(shortcutHelp(true).find((h) => h.action === 'undo')?.keys).toBe('⌘Z');
    expect(shortcutHelp(false).find((h) => h.action === 'undo')?.keys).toBe('Ctrl+Z');
  });
});
