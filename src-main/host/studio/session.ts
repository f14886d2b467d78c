/**
 * One connection's view of the host (a browser tab, an Electron window): it acts only on the projects it opened,
 * created or took over, and its projects close (autosave journal kept) when it goes away.
 */
import type { ApiResult, StudioApi } from '../../contract/api.ts';
import { CodedError } from '../../contract/errors.ts';
import type { JobQueue } from '../jobs.ts';
import { closeProject } from '../projects/project-store.ts';
import type { OpenEntry } from './open-projects.ts';

/** One client's view of the host: its API and its disconnect. */
export interface StudioSession {
  api: StudioApi;
  /**
   * The client disconnected: its open projects are closed keeping their autosave journal (a reload then offers
   * recovery of unsaved work); a project with jobs still running stays open until a client opens it again.
   */
  close(): Promise<void>;
}

/** A session over `api`; `projects` is the host's table of open projects (closed projects leave it). */
export function trackedSession(api: StudioApi, host: { queue: JobQueue; projects: Map<string, OpenEntry> }): StudioSession {
  const { queue, projects } = host;
  const owned = new Set<string>();
  const track = <T extends { projectId: string }>(result: ApiResult<T>): ApiResult<T> => {
    if (result.ok) owned.add(result.value.projectId);
    return result;
  };
  // A connection acts only on the projects it created or opened (openProject is also how it takes over a project
  // orphaned by a connection that went away). Another connection's project is `not-found`, as an unknown id is:
  // the answer does not tell a client which projects other windows hold.
  const mine = (projectId: string): void => {
    if (!owned.has(projectId)) {
      throw new CodedError('not-found', `project '${projectId}' is not open in this window; open its folder here first (a project that another window has open stays with that window until it closes it)`);
    }
  };
  /** `method`, run only when its input names a project of this connection. */
  const owning = <I extends { projectId: string }, R>(method: (input: I) => Promise<R>) => async (input: I): Promise<R> => {
    mine(input.projectId);
    return method(input);
  };
  const tracked: StudioApi = {
    ...api,
    createProject: async (input) => track(await api.createProject(input)),
    openProject: async (input) => track(await api.openProject(input)),
    saveProject: owning(api.saveProject),
    saveProjectAs: owning(async (input) => track(await api.saveProjectAs(input))),
    autosaveProject: owning(api.autosaveProject),
    resolveRecovery: owning(api.resolveRecovery),
    closeProject: owning(async (input) => {
      const result = await api.closeProject(input);
      if (result.ok) owned.delete(input.projectId);
      return result;
    }),
    enqueueGeneration: owning(api.enqueueGeneration),
    enqueueExport: owning(api.enqueueExport),
    cancelJob: async (input) => {
      const job = queue.list().find((j) => j.jobId === input.jobId);
      if (job && !owned.has(job.projectId)) throw new CodedError('not-found', `job '${input.jobId}' is not a job of a project open in this window`);
      return api.cancelJob(input);
    },
    listJobs: async (input) => {
      if (input.projectId !== undefined) mine(input.projectId);
      const jobs = await api.listJobs(input);
      return jobs.ok ? ({ ok: true as const, value: jobs.value.filter((j) => owned.has(j.projectId)) }) : jobs;
    },
    // NOTE: resolveAsset stays open to every connection. Asset requests reach the host without the page's
    // connection: browser mode's HTTP route carries only the run token, and in Electron main asks over its own
    // connection for the window. The asset rule (takes and peaks of an open project only) still applies.
  };
  return {
    api: tracked,
    async close() {
      for (const projectId of owned) {
        const entry = projects.get(projectId);
        if (!entry) continue;
        if (queue.busy(projectId)) {
          entry.orphaned = true;
          continue;
        }
        await closeProject(entry.handle, { keepAutosave: true });
        projects.delete(projectId);
      }
      owned.clear();
    },
  };
}
