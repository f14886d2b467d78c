/**
 * An in-memory StudioApi for RPC tests. The RPC layer is what is under test, so the implementation behind it is a
 * fake on purpose: it records every call, answers from memory, and can be told to throw.
 */
import type { ApiResult, JobInfo, StudioApi, StudioMethod, StudioSettings } from '../../../src-main/contract/api.ts';
import type { ProjectDocument } from '../../../src-main/contract/project.ts';
import { ProjectError } from '../../../src-main/contract/project.ts';
import { sampleProject } from '../../contract/project-fixtures.ts';

export interface FakeStudio {
  impl: StudioApi;
  /** Every call that reached the implementation, in order. */
  calls: { method: StudioMethod; input: unknown }[];
  /** When set, the next calls of that method throw this value. */
  throwing: Map<StudioMethod, unknown>;
}

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });

export function createFakeStudio(): FakeStudio {
  const calls: FakeStudio['calls'] = [];
  const throwing = new Map<StudioMethod, unknown>();
  const projects = new Map<string, { dir: string; document: ProjectDocument }>();
  const jobs: JobInfo[] = [];
  let settings: StudioSettings = { device: 'auto', intraOpThreads: null, autosaveSeconds: 30 };
  let nextId = 1;
  const enter = (method: StudioMethod, input: unknown): void => {
    calls.push({ method, input });
    if (throwing.has(method)) throw throwing.get(method);
  };
  const impl: StudioApi = {
    async createProject(input) {
      enter('createProject', input);
      const projectId = `prj_${nextId++}`;
      const document = { ...sampleProject(), name: input.name };
      projects.set(projectId, { dir: input.dir, document });
      return ok({ projectId, dir: input.dir, document, recoveryAvailable: false });
    },
    async openProject(input) {
      enter('openProject', input);
      for (const [projectId, project] of projects) {
        if (project.dir === input.dir) return ok({ projectId, ...project, recoveryAvailable: false });
      }
      throw new ProjectError('not-found', `no project in ${input.dir}`);
    },
    async saveProject(input) {
      enter('saveProject', input);
      const project = projects.get(input.projectId);
      if (!project) return { ok: false, error: { code: 'not-found', message: `no open project ${input.projectId}` } };
      project.document = input.document;
      return ok(input.document);
    },
    async autosaveProject(input) {
      enter('autosaveProject', input);
      return ok(null);
    },
    async closeProject(input) {
      enter('closeProject', input);
      projects.delete(input.projectId);
      return ok(null);
    },
    async enqueueGeneration(input) {
      enter('enqueueGeneration', input);
      const jobId = `job_${nextId++}`;
      jobs.push({
        jobId,
        projectId: input.projectId,
        trackId: input.trackId,
        regionIds: input.regionIds ?? [],
        state: 'queued',
        queuedAt: '2025-03-01T10:00:00.000Z',
      });
      return ok({ jobId });
    },
    async cancelJob(input) {
      enter('cancelJob', input);
      const job = jobs.find((j) => j.jobId === input.jobId);
      if (!job) return { ok: false, error: { code: 'not-found', message: `no job ${input.jobId}` } };
      job.state = 'cancelled';
      return ok(null);
    },
    async listJobs(input) {
      enter('listJobs', input);
      return ok(jobs.filter((j) => input.projectId === undefined || j.projectId === input.projectId));
    },
    async listModels(input) {
      enter('listModels', input);
      return ok([{ id: 'sketch', name: 'Sketch', sampleRate: 16000, devices: ['cpu'] }]);
    },
    async getSettings(input) {
      enter('getSettings', input);
      return ok(settings);
    },
    async setSettings(input) {
      enter('setSettings', input);
      settings = { ...settings, ...input.settings };
      return ok(settings);
    },
    async ping(input) {
      enter('ping', input);
      return ok({ pong: true, version: '0.1.0' });
    },
  };
  return { impl, calls, throwing };
}
