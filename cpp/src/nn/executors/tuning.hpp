// How a network splits its work: the tuning constants of its executors, in one place, per
// instruction-set level. Each choice depends only on the batch size and the architecture, never
// on the thread count, so results do not depend on the threads; docs/speed.md has the
// measurements behind them (benchmarks/tuning_levels.py sweeps them at each level).
#pragma once

#include "fhn_inverse/nn/network.hpp"

namespace fhn_inverse::nn::tuning {

// Tuning's fields, as measured at each level (benchmarks/tuning_levels.py): the same optimum at
// baseline x86-64, AVX2 + FMA and AVX-512, so one set serves every level.
//
// min_chunk: samples per chunk below which a batch is not split further: small, so that a batch
// of 32 still feeds two cores. Evaluation shares this chunking (hence the workspaces' size)
// unless the map is a vector map (VectorEvaluator) or has OpenBLAS layers, whose products want
// long rows: those evaluate in chunks of >= min_gemm_eval_chunk. A convolutional map keeps the
// training chunks: its workspaces hold far more per sample.
//
// vector_eval_rows, vector_eval_chunks: vector maps evaluate in chunks of n / vector_eval_chunks
// rows, clamped to [min_gemm_eval_chunk, vector_eval_rows]: rows long enough that a product's
// packing of the weights is amortised, and at most 64 chunks per block (Network::loss's partial
// sums).
//
// element_parts: on the wide path, element-wise layers on vector activations (activations,
// dropout) run in this many fixed sample parts over the threads instead of on one thread while
// the other waits.
//
// min_gemm_chunk, chunked_wide_params: maps with OpenBLAS layers train in chunks of at least
// min_gemm_chunk rows (a batch of 2 · min_gemm_chunk or more; smaller batches in two chunks, or
// one below 2 · min_chunk): longer products and fewer chunk gradients to sum. Wide maps train that
// way when their gradients are small enough (<= chunked_wide_params parameters) that a gradient
// buffer per chunk stays in a shared cache (then no thread waits for another between layers);
// larger maps, and batches below 2 · min_gemm_chunk, split every product over the threads instead
// (WideExecutor).
constexpr Tuning kDefault{/*min_chunk=*/16,
                          /*min_gemm_eval_chunk=*/128,
                          /*vector_eval_rows=*/512,
                          /*vector_eval_chunks=*/8,
                          /*element_parts=*/4,
                          /*min_gemm_chunk=*/128,
                          /*chunked_wide_params=*/1L << 22};

}  // namespace fhn_inverse::nn::tuning
