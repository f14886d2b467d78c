/**
 * App settings on disk (`settings.json` in the user's config folder): loaded when the host starts, written
 * atomically on every change, so the device choice (also per model), the denoiser's precision per device, threads,
 * autosave interval and projects folder survive restarts. A missing file gives the defaults; an unreadable or invalid one is set aside as
 * `settings.json.bad` with a warning rather than stopping the app.
 */
import { mkdir, readFile, rename } from 'node:fs/promises';
import { homedir, platform } from 'node:os';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import writeFileAtomic from 'write-file-atomic';
import { API_INPUT_SCHEMAS, type StudioSettings } from '../contract/api.ts';

/** The per-user config folder: TESSERA_CONFIG_DIR, else the platform's convention. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TESSERA_CONFIG_DIR) return env.TESSERA_CONFIG_DIR;
  if (platform() === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Tessera');
  if (platform() === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Tessera');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'tessera');
}

/** Reads the settings file over `defaults`; returns the settings and what went wrong, if anything. */
export async function loadSettings(file: string, defaults: StudioSettings): Promise<{ settings: StudioSettings; warning?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { settings: defaults };
  }
  try {
    // The same schema as a setSettings patch: every field optional, unknown fields refused.
    const patch = v.parse(API_INPUT_SCHEMAS.setSettings, { settings: JSON.parse(text) as unknown }).settings;
    return { settings: { ...defaults, ...patch, modelDevices: { ...defaults.modelDevices, ...patch.modelDevices } } };
  } catch (e) {
    await rename(file, `${file}.bad`).catch(() => undefined);
    return { settings: defaults, warning: `settings file ${file} was unreadable (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); it was moved to settings.json.bad and defaults are used` };
  }
}

/** Writes the settings atomically. */
export async function saveSettings(file: string, settings: StudioSettings): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`);
}
