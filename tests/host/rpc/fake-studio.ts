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
  let settings: StudioSettings = { device: 'auto', intraOpThreads: null, autosaveSeconds: 30, projectsDir: '/tmp/projects', modelDevices: {} };
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
      const dir = input.dir ?? `/tmp/projects/${input.name}`;
      projects.set(projectId, { dir, document });
      return ok({ projectId, dir, document, recoveryAvailable: false, recoverySavedAt: null, warnings: [] });
    },
    async openProject(input) {
      enter('openProject', input);
      for (const [projectId, project] of projects) {
        if (project.dir === input.dir) return ok({ projectId, ...project, recoveryAvailable: false, recoverySavedAt: null, warnings: [] });
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
    async saveProjectAs(input) {
      enter('saveProjectAs', input);
      const project = projects.get(input.projectId);
      if (!project) return { ok: false, error: { code: 'not-found', message: `no open project ${input.projectId}` } };
      Object.assign(project, { dir: input.dir, document: input.document });
      return ok({ projectId: input.projectId, ...project, recoveryAvailable: false, recoverySavedAt: null, warnings: [] });
    },
    async autosaveProject(input) {
      enter('autosaveProject', input);
      return ok(null);
    },
    async resolveRecovery(input) {
      enter('resolveRecovery', input);
      const project = projects.get(input.projectId);
      if (!project) return { ok: false, error: { code: 'not-found', message: `no open project ${input.projectId}` } };
      return ok(project.document);
    },
    async listProjects(input) {
      enter('listProjects', input);
      return ok([...projects.values()].map((p) => ({ name: p.document.name, dir: p.dir, modifiedAt: '2025-03-01T10:00:00.000Z' })));
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
        kind: 'generate',
        label: 'Generate',
        projectId: input.projectId,
        trackId: input.trackId,
        regionIds: input.regionIds ?? [],
        state: 'queued',
        queuedAt: '2025-03-01T10:00:00.000Z',
      });
      return ok({ jobId });
    },
    async enqueueExport(input) {
      enter('enqueueExport', input);
      const jobId = `job_${nextId++}`;
      jobs.push({ jobId, kind: 'export', label: 'Export', projectId: input.projectId, regionIds: [], state: 'queued', queuedAt: '2025-03-01T10:00:00.000Z' });
      return ok({ jobId });
    },
    async resolveAsset(input) {
      enter('resolveAsset', input);
      return ok({ file: `/tmp/projects/${input.path}`, contentType: 'audio/wav', size: 44 });
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
      return ok([
        {
          id: 'sketch',
          name: 'Sketch',
          family: 'audioldm',
          version: '1.0.0',
          builtin: true,
          description: 'demo',
          sampleRate: 16000,
          channels: 1,
          nativeSeconds: 10.24,
          defaultSteps: 25,
          defaultGuidance: 2.5,
          samplers: ['ddim', 'dpmpp-2m'],
          licence: { name: 'MIT' },
          sizeBytes: 1000,
          devices: ['cpu'],
        },
      ]);
    },
    async listCatalog(input) {
      enter('listCatalog', input);
      return ok({ models: [], disk: { dir: '/tmp/models', installedBytes: 0, partialBytes: 0, freeBytes: null } });
    },
    async installModel(input) {
      enter('installModel', input);
      return ok(null);
    },
    async cancelModelInstall(input) {
      enter('cancelModelInstall', input);
      return ok(null);
    },
    async importModel(input) {
      enter('importModel', input);
      return { ok: false, error: { code: 'not-found', message: `no pack in ${input.dir}` } };
    },
    async removeModel(input) {
      enter('removeModel', input);
      return ok({ freedBytes: 0 });
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
    async getSystemInfo(input) {
      enter('getSystemInfo', input);
      return ok({ version: '0.1.0', platform: 'linux x64', providers: [{ id: 'cpu', available: true }] });
    },
    async ping(input) {
      enter('ping', input);
      return ok({ pong: true, version: '0.1.0' });
    },
  };
  return { impl, calls, throwing };
}
