// storage-bench: figures for Docs/BENCHMARKS.md.
try await Bench.run()
