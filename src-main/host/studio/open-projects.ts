/** The host's record of an open project, and the project folder helpers of the studio API. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpenedProjectInfo, ProjectSummary } from '../../contract/api.ts';
import type { ProjectDocument, TakeRef } from '../../contract/project.ts';
import { PROJECT_FILE } from '../projects/layout.ts';
import type { OpenedProject, ProjectHandle } from '../projects/project-store.ts';

/** An open project as the host holds it. */
export interface OpenEntry {
  handle: ProjectHandle;
  /** Its session disconnected while jobs ran: the next client to open the folder takes it over. */
  orphaned: boolean;
  /** The document as last saved. */
  document: ProjectDocument;
  /** Takes generated this session that the saved document may not list yet (for assets). */
  sessionTakes: Map<TakeRef['id'], Pick<TakeRef, 'id' | 'file'>>;
}

/** A folder name for a new project: the name without characters file systems refuse. */
export function folderName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what file names may not hold
  const cleaned = name.replace(/[\\/:*?"<>|\x00-\x1f]/g, ' ').replace(/\s+/g, ' ').trim().replace(/^\.+/, '');
  return cleaned.slice(0, 120) || 'Untitled';
}

/** A free folder for a new project named `name` in `projectsDir` (`Name`, `Name 2`, …). */
export async function newProjectFolder(projectsDir: string, name: string): Promise<string> {
  const base = join(projectsDir, folderName(name));
  let target = base;
  for (let k = 2; await stat(target).then(() => true, () => false); k++) target = `${base} ${k}`;
  return target;
}

/** What the API says about a project it just opened: its document, recovery offer and warnings. */
export function openedInfo(o: OpenedProject, projectId: string): OpenedProjectInfo {
  const warnings = [...o.warnings];
  if (o.missingTakes.length > 0) warnings.push(`${o.missingTakes.length} take file(s) are missing (${o.missingTakes.slice(0, 3).join(', ')}${o.missingTakes.length > 3 ? ', …' : ''}); regenerate those regions`);
  if (o.migratedFrom !== null) warnings.push(`the project was upgraded from schemaVersion ${o.migratedFrom}; saving writes the new version (a backup of the old file is in .tessera/)`);
  if (o.staleLockReplaced) warnings.push('the project was not closed properly last time (a crash?); its lock was taken over');
  return { projectId, dir: o.handle.dir, document: o.document, recoveryAvailable: o.recovery !== null, recoverySavedAt: o.recovery?.savedAt ?? null, warnings };
}

/** The projects in `projectsDir`, most recently changed first (folders without a readable project.json are skipped). */
export async function listProjectFolders(projectsDir: string): Promise<ProjectSummary[]> {
  const names = await readdir(projectsDir).catch(() => [] as string[]);
  const found = await Promise.all(
    names.map(async (n): Promise<ProjectSummary | null> => {
      const dir = join(projectsDir, n);
      try {
        const info = await stat(join(dir, PROJECT_FILE));
        const json = JSON.parse(await readFile(join(dir, PROJECT_FILE), 'utf8')) as { name?: unknown };
        return { name: typeof json.name === 'string' ? json.name : n, dir, modifiedAt: info.mtime.toISOString() };
      } catch {
        return null; // not a project (or unreadable): opening it would say why
      }
    }),
  );
  return found.filter((p): p is ProjectSummary => p !== null).sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
}
