"""
Export an AudioLDM v1 checkpoint (diffusers format) to a Tessera model pack; `export_audioldm.py` beside this package
is the command (`cli.main`), `export.run_export` the export as numbered steps, `selftest.run_selftest` the check CI
runs. README.md beside it says what each module holds.

Writes four ONNX graphs on the contract of research/audioldm.md §3 (text_encoder.onnx, unet.onnx,
vae_decoder.onnx, vocoder.onnx), tokenizer.json, LICENCE.txt, export-report.json and, last, manifest.json
(src-main/contract/manifest.ts). Every graph is opened in ONNX Runtime and its inputs and outputs compared with the
manifest, even with --no-check; with --check (the default) it is also compared with PyTorch on random inputs. A graph
that does not load, or is over its tolerance, stops the export without a manifest.

Every module imports only the standard library at module level: `--help` and `--selftest` work without PyTorch,
diffusers, transformers, onnx or onnxruntime (CI checks exactly that). Functions that need them import them when
called. The export itself needs requirements.txt (see README.md).

Research references in comments: "research §N" = ../shared/research/audioldm.md, "longform §N" =
../shared/research/longform.md.
"""
