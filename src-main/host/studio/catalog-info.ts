/** The model catalog as the studio shows it: each model's status, size, licence, problem and install state. */
import type { CatalogModelInfo, ModelsDiskInfo } from '../../contract/api.ts';
import type { ModelManager } from '../models/manager.ts';

/** `listCatalog`'s answer from the model manager's state. */
export async function catalogInfo(manager: ModelManager): Promise<{ models: CatalogModelInfo[]; disk: ModelsDiskInfo }> {
  const [{ models, disk }, catalog] = await Promise.all([manager.list(), manager.getCatalog()]);
  const installing = new Set(manager.installing());
  const downloadable = models.filter((m) => m.status === 'available' || m.status === 'partial');
  const unpinned = Object.fromEntries(await Promise.all(downloadable.map(async (m) => [m.id, await manager.unpinnedRepos(m.id)] as const)));
  return {
    models: models.map((m) => {
      const entry = catalog.entries.find((e) => e.id === m.id);
      const text = entry?.licence.text;
      const howTo =
        m.status === 'export' && entry?.source.kind === 'export'
          ? `Not downloadable: export it once from ${entry.source.from.repo} with ${entry.source.tool} (\`${entry.source.command}\`), then import the folder it writes.`
          : undefined;
      return {
        id: m.id,
        name: m.name,
        family: m.family,
        status: m.status,
        sizeBytes: m.sizeBytes,
        sizeIsEstimate: m.sizeIsEstimate,
        diskBytes: m.diskBytes,
        licence: { name: m.licence.name, ...(m.licence.url ? { url: m.licence.url } : {}), ...(text ? { text } : {}), ...(m.licence.commercialUse ? { commercialUse: String(m.licence.commercialUse) } : {}) },
        origin: m.origin,
        ...(m.version ? { version: m.version } : {}),
        ...(m.problem ?? howTo ? { problem: m.problem ?? howTo } : {}),
        installing: installing.has(m.id),
        ...(unpinned[m.id]?.length ? { unpinned: unpinned[m.id] } : {}),
      };
    }),
    disk: { dir: disk.modelsDir, installedBytes: disk.packs.reduce((n, p) => n + p.bytes, 0), partialBytes: disk.partial.reduce((n, p) => n + p.bytes, 0), freeBytes: disk.freeBytes ?? null },
  };
}
