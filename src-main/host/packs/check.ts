/**
 * The check a pack passes before it is listed as installed (download or import), after the caller has verified its
 * files (`verifyPack`, which the install and the import run on the staging folder): every graph opened by ONNX
 * Runtime on the CPU with its inputs and outputs compared with the manifest, the family's contract recognised, the
 * tokenizer and extra files read — everything `openModel` does before a generation, so an installed pack is one that
 * loads. The files are not hashed again here (for Stable Audio 3 that is 680 MB).
 */
import { openModel, PackError, readPackManifest } from './load.ts';

/** A pack that verified but whose graphs do not load; the message names the graph and the runtime's reason. */
export class PackLoadError extends PackError {
  override name = 'PackLoadError';
}

/** Opens every graph of the verified pack in `dir` once and releases them; throws PackError / PackLoadError naming the problem. */
export async function checkPackLoads(dir: string): Promise<void> {
  const pack = await readPackManifest(dir);
  let model;
  try {
    model = await openModel(pack, { device: 'cpu', intraOpThreads: 1 });
  } catch (e) {
    throw new PackLoadError(`model pack '${pack.manifest.id}' does not load: ${(e as Error).message}`);
  }
  await model.dispose();
}
