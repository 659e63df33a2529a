// How a network splits its work: the tuning constants of its executors, in one place. Each
// choice depends only on the batch size and the architecture, never on the thread count, so
// results do not depend on the threads; docs/speed.md has the measurements behind them.
#pragma once

namespace fhn_inverse::nn::tuning {

// Samples per chunk below which a batch is not split further: small, so that a batch of 32 still
// feeds two cores. Evaluation shares this chunking (hence the workspaces' size) unless the map
// is a vector map (VectorEvaluator) or has OpenBLAS layers, whose products want long rows: those
// evaluate in chunks of >= kMinGemmEvalChunk. A convolutional map keeps the training chunks: its
// workspaces hold far more per sample.
constexpr long kMinChunk = 16;
constexpr long kMinGemmEvalChunk = 128;
// Vector maps evaluate in chunks of n / kVectorEvalChunks rows, clamped to
// [kMinGemmEvalChunk, kVectorEvalRows]: rows long enough that a product's packing of the weights
// is amortised, and at most 64 chunks per block (Network::loss's partial sums).
constexpr long kVectorEvalRows = 512;
constexpr long kVectorEvalChunks = 8;
// On the wide path, element-wise layers on vector activations (activations, dropout) run in this
// many fixed sample parts over the threads instead of on one thread while the other waits.
constexpr long kElementParts = 4;
// Maps with OpenBLAS layers train in chunks of at least kMinGemmChunk rows (a batch of
// 2 · kMinGemmChunk or more; smaller batches in two chunks, or one below 2 · kMinChunk):
// longer products and fewer chunk gradients to sum. Wide maps train that way when their
// gradients are small enough that a gradient buffer per chunk stays in a shared cache (then no
// thread waits for another between layers); larger maps, and batches below 2 · kMinGemmChunk,
// split every product over the threads instead (WideExecutor).
constexpr long kMinGemmChunk = 128;
constexpr long kChunkedWideParams = 1L << 22;

}  // namespace fhn_inverse::nn::tuning
