/** The application menu: standard roles only, so platform shortcuts (undo, copy, zoom, quit…) come for free. */
import type { MenuItemConstructorOptions } from 'electron';

/** The menu template for `platform` (process.platform); macOS gets the app menu first. */
export function menuTemplate(platform: string): MenuItemConstructorOptions[] {
  const template: MenuItemConstructorOptions[] = [
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
  ];
  return platform === 'darwin' ? [{ role: 'appMenu' }, ...template] : template;
}
