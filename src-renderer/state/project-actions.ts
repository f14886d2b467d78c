/**
 * Opening, creating, saving and closing projects for a StudioState: the host calls and how the studio's state
 * follows them (a fresh history on open, the saved mark on save, everything reset on close). Recovery of an
 * autosave and the autosave journal itself live here too.
 */
import type { OpenedProjectInfo, ProjectSummary } from '../../src-main/contract/api.ts';
import type { ProjectDocument, TrackId } from '../../src-main/contract/project.ts';
import { projectEnd } from '../model/edits.ts';
import { emptyHistory, markSaved, type History } from '../model/history.ts';
import { emptySelection, type Selection } from '../model/selection.ts';
import type { JobsState } from './jobs.svelte.ts';
import type { HostCalls, OpenProject, RecoveryOffer } from './studio-context.ts';
import type { TimelineState } from './timeline.svelte.ts';
import type { TransportState } from './transport.svelte.ts';

/** What the project actions read and reset of the studio (StudioState is one). */
export interface ProjectHost extends HostCalls {
  project: OpenProject | null;
  document: ProjectDocument | null;
  history: History;
  selection: Selection;
  selectedTrackId: TrackId | null;
  recovery: RecoveryOffer | null;
  openWarnings: readonly string[];
  /** A project call in flight, for spinners. */
  busy: string | null;
  saving: boolean;
  lastSavedAt: Date | null;
  lastAutosaveAt: Date | null;
  projects: readonly ProjectSummary[];
  projectsError: string | null;
  readonly dirty: boolean;
  readonly jobs: JobsState;
  readonly transport: TransportState;
  readonly timeline: TimelineState;
  /** Points jobs and the peaks cache at a newly opened project (null: none open). */
  attachProject(projectId: string | null): void;
}

/** The project actions of a studio. */
export type ProjectActions = ReturnType<typeof projectActions>;

/** Binds the project actions to `studio`. */
export function projectActions(studio: ProjectHost) {
  /** Takes an opened project as the one being edited. */
  const adopt = async (opened: OpenedProjectInfo): Promise<void> => {
    studio.transport.stop();
    studio.project = { projectId: opened.projectId, dir: opened.dir };
    studio.document = opened.document;
    studio.history = emptyHistory();
    studio.selection = emptySelection();
    studio.selectedTrackId = opened.document.tracks[0]?.id ?? null;
    studio.recovery = opened.recoveryAvailable ? { savedAt: opened.recoverySavedAt } : null;
    studio.openWarnings = opened.warnings;
    studio.attachProject(opened.projectId);
    studio.transport.position = 0;
    studio.transport.setLoopRange(null);
    studio.transport.setLoopEnabled(false);
    studio.timeline.fit(Math.max(60, projectEnd(opened.document) * 1.05), true);
    const jobs = await studio.api?.listJobs({ projectId: opened.projectId });
    if (jobs?.ok === true) studio.jobs.reset(jobs.value);
  };

  const busy = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    studio.busy = what;
    try {
      return await run();
    } finally {
      studio.busy = null;
    }
  };

  const actions = {
    /** Lists the projects folder for the start screen. */
    async refreshProjects(): Promise<void> {
      const result = await studio.api?.listProjects({});
      if (result === undefined) return;
      if (result.ok) {
        studio.projects = result.value;
        studio.projectsError = null;
      } else {
        studio.projectsError = result.error.message;
      }
    },

    /** A new project in the projects folder (or `dir`), opened. */
    create(name: string, dir?: string): Promise<boolean> {
      return busy('Creating project…', async () => {
        const opened = await studio.call(`Could not create '${name}'`, (api) =>
          api.createProject(dir === undefined || dir === '' ? { name } : { name, dir }),
        );
        if (opened === null) return false;
        await adopt(opened);
        return true;
      });
    },

    open(dir: string): Promise<boolean> {
      return busy('Opening project…', async () => {
        const opened = await studio.call(`Could not open ${dir}`, (api) => api.openProject({ dir }));
        if (opened === null) return false;
        await adopt(opened);
        return true;
      });
    },

    /** Takes (`accept`) or throws away the autosave offered on open. */
    async resolveRecovery(accept: boolean): Promise<void> {
      const project = studio.project;
      if (project === null) return;
      const doc = await studio.call('Could not resolve the recovery', (api) => api.resolveRecovery({ projectId: project.projectId, accept }));
      studio.recovery = null;
      if (doc === null) return;
      studio.document = doc;
      // A restored autosave is not in project.json yet.
      studio.history = emptyHistory({ dirty: accept });
      if (accept) studio.notices.success('Restored the autosaved version', 'Save to keep it.');
    },

    /** Closes the project (the caller has asked about unsaved changes). */
    async close(): Promise<void> {
      const project = studio.project;
      if (project === null) return;
      studio.transport.stop();
      if (!(await studio.succeeded('Could not close the project', (api) => api.closeProject({ projectId: project.projectId })))) return;
      studio.project = null;
      studio.document = null;
      studio.history = emptyHistory();
      studio.selection = emptySelection();
      studio.selectedTrackId = null;
      studio.recovery = null;
      studio.openWarnings = [];
      studio.attachProject(null);
      await actions.refreshProjects();
    },

    async save(): Promise<boolean> {
      const project = studio.project;
      const doc = studio.document;
      if (project === null || doc === null || studio.saving) return false;
      studio.saving = true;
      const historyAtSave = studio.history;
      try {
        const saved = await studio.call('Could not save the project', (api) => api.saveProject({ projectId: project.projectId, document: doc }));
        if (saved === null) return false;
        // Edits made while the save was in flight are not in the file: only then is the history's mark wrong.
        if (studio.history === historyAtSave) studio.history = markSaved(studio.history);
        studio.lastSavedAt = new Date();
        return true;
      } finally {
        studio.saving = false;
      }
    },

    /** Saves to a new folder and goes on editing there. */
    async saveAs(dir: string): Promise<boolean> {
      const project = studio.project;
      const doc = studio.document;
      if (project === null || doc === null) return false;
      studio.saving = true;
      try {
        const opened = await studio.call(`Could not save to ${dir}`, (api) => api.saveProjectAs({ projectId: project.projectId, dir, document: doc }));
        if (opened === null) return false;
        studio.project = { projectId: opened.projectId, dir: opened.dir };
        if (studio.document === doc) studio.history = markSaved(studio.history);
        studio.lastSavedAt = new Date();
        studio.attachProject(opened.projectId);
        studio.notices.success('Saved as a new project', opened.dir);
        return true;
      } finally {
        studio.saving = false;
      }
    },

    /** Writes the autosave journal when there are unsaved changes (called on a timer). */
    async autosave(): Promise<void> {
      const project = studio.project;
      const doc = studio.document;
      const api = studio.api;
      if (project === null || doc === null || api === null || !studio.dirty || studio.saving) return;
      const result = await api.autosaveProject({ projectId: project.projectId, document: doc });
      if (result.ok) studio.lastAutosaveAt = new Date();
      else studio.notices.error('Autosave failed', result.error.message);
    },

    /**
     * The page is going away (reload, window closed): release the project's lock on the host when nothing would be
     * lost. With unsaved changes the autosave journal must survive, and closing would delete it, so the project
     * stays open on the host (its lock goes with the host process).
     */
    leave(): void {
      const project = studio.project;
      const api = studio.api;
      if (project === null || api === null || studio.dirty || studio.jobs.active.length > 0) return;
      void api.closeProject({ projectId: project.projectId });
    },
  };
  return actions;
}
