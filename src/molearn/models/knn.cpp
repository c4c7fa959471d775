#include "molearn/models/knn.hpp"

#include <ATen/Parallel.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <thread>
#include <vector>

#include "molearn/core/parallel_for.hpp"
#include "molearn/models/onednn_matmul.hpp"

namespace molearn::knn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Below this many channels the distances are computed directly as sums of
// squared differences: exact (a point's distance to itself is exactly 0)
// and, for xyz, much cheaper than a GEMM with a 3-long inner dimension.
constexpr std::int64_t kDirectMaxChannels = 8;

// Rows of the direct path handled per task: a few rows amortise the task
// overhead while each row's N distances stay in L1/L2.
constexpr std::int64_t kDirectRowsPerTask = 16;

// The GEMM path computes the dot products of a block of R rows with all N
// points at once; R is chosen so that the block stays near this many
// elements (4 MB of floats: cache-friendly, and small enough for the
// allocator to recycle rather than map fresh pages every time).
constexpr std::int64_t kBlockElements = std::int64_t{1} << 20;

// Chunks of parallel work hold at least this many elementary steps, so that
// small inputs (tests, tiny proteins) run inline instead of paying for
// thread start-up.
constexpr std::int64_t kMinChunkWork = std::int64_t{1} << 16;

// Grain (items per chunk) for items of `work` elementary steps each.
std::int64_t grain_for(std::int64_t work) {
  return std::max<std::int64_t>(1, kMinChunkWork / std::max<std::int64_t>(1, work));
}

// Runs f(chunk_begin, chunk_end) over [begin, end) split into at most
// at::get_num_threads() contiguous chunks of at least `grain` items, on the
// library's thread pool (core/parallel_for.hpp says why not
// at::parallel_for), so torch::set_num_threads applies. The bodies must not
// call back into libtorch ops (they run on plain threads, where nested
// library parallelism would oversubscribe).
template <typename F>
void parallel_chunks(std::int64_t begin, std::int64_t end, std::int64_t grain, const F& f) {
  if (end <= begin) return;
  const int threads = at::in_parallel_region() ? 1 : std::max(1, at::get_num_threads());
  parallel_for(
      static_cast<std::size_t>(end - begin), threads,
      [&](std::size_t b, std::size_t e) {
        f(begin + static_cast<std::int64_t>(b), begin + static_cast<std::int64_t>(e));
      },
      static_cast<std::size_t>(std::max<std::int64_t>(grain, 1)));
}

void check_cpu_float(const torch::Tensor& x, const char* what) {
  TORCH_CHECK(x.device().is_cpu(), what, ": expected a CPU tensor");
  TORCH_CHECK(x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble, what,
              ": expected a float or double tensor, got ", x.scalar_type());
}

// Validates idx against x ([B, C, N]) and returns it contiguous. Indices come
// from our own kernels in the model, but a bad index here would be an
// out-of-bounds read, so they are range-checked (cheap next to the kernels).
torch::Tensor checked_indices(const torch::Tensor& idx, const torch::Tensor& x, const char* what) {
  TORCH_CHECK(idx.dim() == 3 && idx.scalar_type() == torch::kLong, what, ": indices must be int64 [B, M, k], got ",
              idx.sizes(), " ", idx.scalar_type());
  TORCH_CHECK(idx.size(0) == x.size(0) && idx.size(2) >= 1, what, ": indices ", idx.sizes(), " do not match input ",
              x.sizes());
  TORCH_CHECK(idx.device().is_cpu(), what, ": expected CPU indices");
  if (idx.numel() > 0) {
    auto [lo, hi] = torch::aminmax(idx);
    TORCH_CHECK(lo.item<std::int64_t>() >= 0 && hi.item<std::int64_t>() < x.size(2), what,
                ": neighbour index out of range [0, ", x.size(2), ")");
  }
  return idx.contiguous();
}

// Inserts (v, j) into the sorted (ascending) arrays best_d/best_i of length
// k, dropping the last entry. Equal distances keep their scan order.
template <typename T>
inline void insert_sorted(T v, std::int64_t j, std::int64_t k, T* best_d, std::int64_t* best_i) {
  std::int64_t s = k - 1;
  while (s > 0 && best_d[s - 1] > v) {
    best_d[s] = best_d[s - 1];
    best_i[s] = best_i[s - 1];
    --s;
  }
  best_d[s] = v;
  best_i[s] = j;
}

// Whether any of the kScanBlock<T> values at p is at most `bound`. Almost
// every block of a row has none once the running k-th is near its final
// value, so the scans test whole blocks with SIMD compares (SSE2 is part of
// x86-64) and only look at single values in the rare hits. "At most", not
// "below": an equal value may still rank before the k-th by its index.
template <typename T>
constexpr std::int64_t kScanBlock = 64 / sizeof(T);

#if defined(__SSE2__)
inline bool any_at_most(const float* p, float bound) {
  const __m128 b = _mm_set1_ps(bound);
  const __m128 lo = _mm_or_ps(_mm_cmple_ps(_mm_loadu_ps(p), b), _mm_cmple_ps(_mm_loadu_ps(p + 4), b));
  const __m128 hi = _mm_or_ps(_mm_cmple_ps(_mm_loadu_ps(p + 8), b), _mm_cmple_ps(_mm_loadu_ps(p + 12), b));
  return _mm_movemask_ps(_mm_or_ps(lo, hi)) != 0;
}
inline bool any_at_most(const double* p, double bound) {
  const __m128d b = _mm_set1_pd(bound);
  const __m128d lo = _mm_or_pd(_mm_cmple_pd(_mm_loadu_pd(p), b), _mm_cmple_pd(_mm_loadu_pd(p + 2), b));
  const __m128d hi = _mm_or_pd(_mm_cmple_pd(_mm_loadu_pd(p + 4), b), _mm_cmple_pd(_mm_loadu_pd(p + 6), b));
  return _mm_movemask_pd(_mm_or_pd(lo, hi)) != 0;
}
#else
template <typename T>
inline bool any_at_most(const T* p, T bound) {
  bool any = false;
  for (std::int64_t l = 0; l < kScanBlock<T>; ++l) any |= p[l] <= bound;
  return any;
}
#endif

// Running top-k of one row: a sorted (ascending) array of k distances and
// their column indices. k is small (16), so insertion by shifting beats a
// heap; most candidates are rejected by the comparison with the current
// k-th distance. NaN distances are never taken.
template <typename T>
void row_top_k(const T* dist, std::int64_t n, std::int64_t k, T* best_d, std::int64_t* best_i) {
  std::fill(best_d, best_d + k, std::numeric_limits<T>::infinity());
  std::fill(best_i, best_i + k, std::int64_t{-1});
  T worst = std::numeric_limits<T>::infinity();
  auto consider = [&](std::int64_t j) {
    if (dist[j] < worst) {
      insert_sorted(dist[j], j, k, best_d, best_i);
      worst = best_d[k - 1];
    }
  };
  constexpr std::int64_t W = kScanBlock<T>;
  std::int64_t j = 0;
  for (; j + W <= n; j += W)
    if (any_at_most(dist + j, worst))
      for (std::int64_t l = j; l < j + W; ++l) consider(l);
  for (; j < n; ++j) consider(j);
}

// Whether (v, j) ranks before (w, i): nearer first, equal distances by
// index. An empty slot (infinity, -1) ranks after every finite distance.
template <typename T>
inline bool ranks_before(T v, std::int64_t j, T w, std::int64_t i) {
  return v < w || (v == w && j < i);
}

// insert_sorted for a scan in any order: equal distances end up by index.
template <typename T>
inline void insert_ranked(T v, std::int64_t j, std::int64_t k, T* best_d, std::int64_t* best_i) {
  std::int64_t s = k - 1;
  while (s > 0 && ranks_before(v, j, best_d[s - 1], best_i[s - 1])) {
    best_d[s] = best_d[s - 1];
    best_i[s] = best_i[s - 1];
    --s;
  }
  best_d[s] = v;
  best_i[s] = j;
}

// row_top_k for the GEMM form without materialising the distances: the
// candidates are ranked by sq[j] - 2 g[j], the squared distance minus the
// row's own |x_i|^2 (a constant per row, so the order is the same).
//
// The scan starts at the block of column `start` (the row's own point) and
// wraps around. A protein's features change along its chain, so from column
// 0 the distances mostly shrink towards the row's own point and nearly every
// column displaced the running k-th (an insertion each: 60 % of the scan's
// time on MurD); from the row's own point on, the k-th is near its final
// value within a few blocks and almost every block is skipped.
template <typename T>
void gram_row_top_k(const T* g, const T* sq, std::int64_t n, std::int64_t k, std::int64_t start, T* best_d,
                    std::int64_t* best_i) {
  std::fill(best_d, best_d + k, std::numeric_limits<T>::infinity());
  std::fill(best_i, best_i + k, std::int64_t{-1});
  T worst = std::numeric_limits<T>::infinity();
  auto consider = [&](T v, std::int64_t j) {
    if (ranks_before(v, j, worst, best_i[k - 1])) {
      insert_ranked(v, j, k, best_d, best_i);
      worst = best_d[k - 1];
    }
  };
  constexpr std::int64_t W = kScanBlock<T>;
  alignas(64) T v[W];
  auto scan = [&](std::int64_t j, std::int64_t end) {
    for (; j + W <= end; j += W) {
      for (std::int64_t l = 0; l < W; ++l) v[l] = sq[j + l] - T(2) * g[j + l];  // vectorises
      if (any_at_most(v, worst))
        for (std::int64_t l = 0; l < W; ++l) consider(v[l], j + l);
    }
    for (; j < end; ++j) consider(sq[j] - T(2) * g[j], j);
  };
  const std::int64_t first_block = start / W * W;
  scan(first_block, n);
  scan(0, first_block);
}

// Few channels: exact distances, computed and scanned per row by the workers.
template <typename T>
void knn_direct(const torch::Tensor& x, std::int64_t k, torch::Tensor& out) {
  const std::int64_t B = x.size(0), C = x.size(1), N = x.size(2);
  const T* xp = x.data_ptr<T>();
  std::int64_t* op = out.data_ptr<std::int64_t>();
  const std::int64_t tasks_per_item = (N + kDirectRowsPerTask - 1) / kDirectRowsPerTask;
  const std::int64_t grain = grain_for(kDirectRowsPerTask * N * (C + 1));
  parallel_chunks(0, B * tasks_per_item, grain, [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> dist(static_cast<std::size_t>(N));
    std::vector<T> best_d(static_cast<std::size_t>(k));
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t b = t / tasks_per_item;
      const std::int64_t r0 = (t % tasks_per_item) * kDirectRowsPerTask;
      const std::int64_t r1 = std::min(N, r0 + kDirectRowsPerTask);
      const T* xb = xp + b * C * N;  // [C, N], one channel per row
      for (std::int64_t i = r0; i < r1; ++i) {
        T* d = dist.data();
        std::fill(d, d + N, T(0));
        for (std::int64_t c = 0; c < C; ++c) {
          const T* xc = xb + c * N;
          const T xi = xc[i];
          for (std::int64_t j = 0; j < N; ++j) {  // vectorises over j
            const T diff = xc[j] - xi;
            d[j] += diff * diff;
          }
        }
        std::int64_t* o = op + (b * N + i) * k;
        row_top_k(d, N, k, best_d.data(), o);
        for (std::int64_t s = 0; s < k; ++s)  // only NaN distances leave gaps
          if (o[s] < 0) o[s] = i;
      }
    }
  });
}

// xyz with many points: a uniform grid of cells, searched in growing
// shells around each point's cell, so each point looks at a few hundred
// candidates instead of all N. Distances are computed exactly as in
// knn_direct (same operations, same order), so both give the same distances.
constexpr std::int64_t kGridMinPoints = 256;
constexpr double kGridPointsPerCell = 2.0;

// The grid of one structure: points sorted by cell, with their coordinates
// copied in that order for locality.
template <typename T>
struct CellGrid {
  std::int64_t dims[3] = {1, 1, 1};
  double lo[3] = {0, 0, 0};
  double cell = 1.0;                // edge length
  std::vector<std::int64_t> start;  // [cells + 1], into order/coords
  std::vector<std::int64_t> order;  // point index by sorted position
  std::vector<T> coords;            // [N][3] in sorted order

  std::int64_t cell_of(const double* p, int d) const {
    const auto c = static_cast<std::int64_t>((p[d] - lo[d]) / cell);
    return std::clamp<std::int64_t>(c, 0, dims[d] - 1);
  }

  void build(const T* xb, std::int64_t N) {
    double hi[3];
    for (int d = 0; d < 3; ++d) {
      const T* c = xb + d * N;
      lo[d] = hi[d] = static_cast<double>(c[0]);
      for (std::int64_t j = 1; j < N; ++j) {
        lo[d] = std::min(lo[d], static_cast<double>(c[j]));
        hi[d] = std::max(hi[d], static_cast<double>(c[j]));
      }
    }
    const double widest = std::max({hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]});
    if (!(widest > 0) || !std::isfinite(widest)) {
      cell = 1.0;  // all points coincide: a single cell
    } else {
      // Edge for ~kGridPointsPerCell points per cell of the bounding box;
      // flat or thin boxes count their thin sides as widest / 1000 so the
      // edge stays finite.
      double volume = 1.0;
      for (int d = 0; d < 3; ++d) volume *= std::max(hi[d] - lo[d], widest * 1e-3);
      cell = std::cbrt(volume * kGridPointsPerCell / static_cast<double>(N));
    }
    // Bound the number of cells (thin boxes) to a few per point.
    for (;;) {
      std::int64_t total = 1;
      for (int d = 0; d < 3; ++d) {
        dims[d] = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((hi[d] - lo[d]) / cell)));
        total *= dims[d];
      }
      if (total <= 4 * N + 8) break;
      cell *= 1.25;
    }
    const std::int64_t cells = dims[0] * dims[1] * dims[2];
    std::vector<std::int64_t> cell_id(static_cast<std::size_t>(N));
    start.assign(static_cast<std::size_t>(cells + 1), 0);
    for (std::int64_t j = 0; j < N; ++j) {
      const double p[3] = {static_cast<double>(xb[j]), static_cast<double>(xb[N + j]),
                           static_cast<double>(xb[2 * N + j])};
      cell_id[j] = (cell_of(p, 2) * dims[1] + cell_of(p, 1)) * dims[0] + cell_of(p, 0);
      ++start[cell_id[j] + 1];
    }
    for (std::int64_t c = 0; c < cells; ++c) start[c + 1] += start[c];
    order.resize(static_cast<std::size_t>(N));
    coords.resize(static_cast<std::size_t>(3 * N));
    std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
    for (std::int64_t j = 0; j < N; ++j) {
      const std::int64_t pos = fill[cell_id[j]]++;
      order[pos] = j;
      for (int d = 0; d < 3; ++d) coords[3 * pos + d] = xb[d * N + j];
    }
  }
};

template <typename T>
void knn_grid(const torch::Tensor& x, std::int64_t k, torch::Tensor& out) {
  const std::int64_t B = x.size(0), N = x.size(2);
  const T* xp = x.data_ptr<T>();
  std::int64_t* op = out.data_ptr<std::int64_t>();
  CellGrid<T> grid;
  for (std::int64_t b = 0; b < B; ++b) {
    grid.build(xp + b * 3 * N, N);
    const std::int64_t max_shell = std::max({grid.dims[0], grid.dims[1], grid.dims[2]});
    // Tasks are runs of points in cell order, so neighbouring queries share
    // the cells they search.
    parallel_chunks(0, N, grain_for(64 * k), [&](std::int64_t begin, std::int64_t end) {
      std::vector<T> best_d(static_cast<std::size_t>(k));
      for (std::int64_t pos = begin; pos < end; ++pos) {
        const std::int64_t i = grid.order[pos];
        const T* q = grid.coords.data() + 3 * pos;
        const double qd[3] = {static_cast<double>(q[0]), static_cast<double>(q[1]), static_cast<double>(q[2])};
        const std::int64_t c[3] = {grid.cell_of(qd, 0), grid.cell_of(qd, 1), grid.cell_of(qd, 2)};
        std::int64_t* best_i = op + (b * N + i) * k;
        std::fill(best_d.begin(), best_d.end(), std::numeric_limits<T>::infinity());
        std::fill(best_i, best_i + k, std::int64_t{-1});
        T worst = std::numeric_limits<T>::infinity();
        auto visit_cell = [&](std::int64_t cx, std::int64_t cy, std::int64_t cz) {
          const std::int64_t cell = (cz * grid.dims[1] + cy) * grid.dims[0] + cx;
          for (std::int64_t s = grid.start[cell]; s < grid.start[cell + 1]; ++s) {
            const T* p = grid.coords.data() + 3 * s;
            T d = 0;  // as knn_direct: channel by channel from zero
            for (int a = 0; a < 3; ++a) {
              const T diff = p[a] - q[a];
              d += diff * diff;
            }
            if (d < worst) {
              insert_sorted(d, grid.order[s], k, best_d.data(), best_i);
              worst = best_d[k - 1];
            }
          }
        };
        for (std::int64_t r = 0; r <= max_shell; ++r) {
          // The cells at Chebyshev distance exactly r from the query's cell.
          const std::int64_t z0 = std::max<std::int64_t>(0, c[2] - r), z1 = std::min(grid.dims[2] - 1, c[2] + r);
          const std::int64_t y0 = std::max<std::int64_t>(0, c[1] - r), y1 = std::min(grid.dims[1] - 1, c[1] + r);
          for (std::int64_t cz = z0; cz <= z1; ++cz)
            for (std::int64_t cy = y0; cy <= y1; ++cy) {
              const bool inner = std::abs(cz - c[2]) < r && std::abs(cy - c[1]) < r;
              if (inner) {
                if (c[0] - r >= 0) visit_cell(c[0] - r, cy, cz);
                if (r > 0 && c[0] + r < grid.dims[0]) visit_cell(c[0] + r, cy, cz);
              } else {
                const std::int64_t x0 = std::max<std::int64_t>(0, c[0] - r);
                const std::int64_t x1 = std::min(grid.dims[0] - 1, c[0] + r);
                for (std::int64_t cx = x0; cx <= x1; ++cx) visit_cell(cx, cy, cz);
              }
            }
          // Every cell further out is at least r cell edges away from the
          // query point. The margin keeps rounding of the cell assignment
          // and of the distances on the safe side.
          const double reach = static_cast<double>(r) * grid.cell * (1.0 - 1e-5);
          if (best_i[k - 1] >= 0 && static_cast<double>(worst) <= reach * reach) break;
        }
        for (std::int64_t s = 0; s < k; ++s)  // only non-finite input leaves gaps
          if (best_i[s] < 0) best_i[s] = i;
      }
    });
  }
}

// Many channels: squared distances |a|^2 + |b|^2 - 2 a.b, with the dot
// products of a block of R rows of one structure from one library call, then
// a parallel top-k scan of the R rows that applies the formula on the fly.
// Only the [R, N] block of dot products is held, never an N x N matrix.
//
// The block X[:, rows]^T X comes from oneDNN's matmul on X's own memory
// (onednn_matmul.hpp says why); double precision, which oneDNN does not
// have, as a 1x1 convolution of X with the rows as filters.
template <typename T>
void knn_gemm(const torch::Tensor& x, std::int64_t k, torch::Tensor& out) {
  const std::int64_t B = x.size(0), C = x.size(1), N = x.size(2);
  std::int64_t* op = out.data_ptr<std::int64_t>();
  const auto sq = x.pow(2).sum(1).contiguous();  // [B, N]
  const T* sqp = sq.data_ptr<T>();
  const std::int64_t block = std::min(N, std::clamp<std::int64_t>(kBlockElements / N, 64, 512));
  for (std::int64_t b = 0; b < B; ++b) {
    const auto xb = x[b];  // [C, N]
    const auto input = xb.unsqueeze(0);
    for (std::int64_t r0 = 0; r0 < N; r0 += block) {
      const std::int64_t rows = std::min(block, N - r0);
      torch::Tensor dots;  // [rows, N]
      if constexpr (std::is_same_v<T, float>)
        dots = onednn::matmul(xb.narrow(1, r0, rows).t(), xb);
      else
        dots = torch::conv1d(input, xb.narrow(1, r0, rows).t().contiguous().view({rows, C, 1})).contiguous();
      const T* dp = dots.data_ptr<T>();
      const T* sqb = sqp + b * N;
      parallel_chunks(0, rows, grain_for(2 * N), [&](std::int64_t begin, std::int64_t end) {
        std::vector<T> best_d(static_cast<std::size_t>(k));
        for (std::int64_t r = begin; r < end; ++r) {
          const std::int64_t i = r0 + r;
          std::int64_t* o = op + (b * N + i) * k;
          gram_row_top_k(dp + r * N, sqb, N, k, /*start=*/i, best_d.data(), o);
          for (std::int64_t s = 0; s < k; ++s)  // only non-finite features leave gaps
            if (o[s] < 0) o[s] = i;
        }
      });
    }
  }
}

// ---- neighbour max-pool ----

// The pool reads a points-major copy of the features ([B, N, C]), so that a
// neighbour's C values are contiguous and the max over a neighbour list is a
// run of C-wide vector compares. Over the channels-major input each value was
// a separate load at a random column: 12 % of a bf16 MurD forward pass.

// m[c] = max over the k neighbours nb of xt[nb[j] * C + c], and (if arg is
// given) the winning neighbour's index. The first maximum wins and a NaN wins
// and sticks, as in torch.max; written as selects, which vectorise, because
// which neighbour wins is data-dependent and branches would mispredict.
template <typename T>
inline void max_over_neighbours(const T* __restrict xt, std::int64_t C, const std::int64_t* nb, std::int64_t k,
                                T* __restrict m, std::int32_t* __restrict arg) {
  const T* first = xt + nb[0] * C;
  for (std::int64_t c = 0; c < C; ++c) m[c] = first[c];
  if (arg)
    for (std::int64_t c = 0; c < C; ++c) arg[c] = static_cast<std::int32_t>(nb[0]);
  for (std::int64_t j = 1; j < k; ++j) {
    const T* __restrict v = xt + nb[j] * C;
    if (arg) {
      const auto source = static_cast<std::int32_t>(nb[j]);
      for (std::int64_t c = 0; c < C; ++c) {
        const bool take = (v[c] > m[c]) | ((v[c] != v[c]) & (m[c] == m[c]));
        m[c] = take ? v[c] : m[c];
        arg[c] = take ? source : arg[c];
      }
    } else {
      for (std::int64_t c = 0; c < C; ++c) {
        const bool take = (v[c] > m[c]) | ((v[c] != v[c]) & (m[c] == m[c]));
        m[c] = take ? v[c] : m[c];
      }
    }
  }
}

// One build per instruction set, chosen at load time (as in analysis/rmsd.cpp):
// the build targets plain x86-64, whose SSE2 compares only 4 floats at a time.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void max_over_neighbours_of(
    const float* xt, std::int64_t C, const std::int64_t* nb, std::int64_t k, float* m, std::int32_t* arg) {
  max_over_neighbours(xt, C, nb, k, m, arg);
}

void max_over_neighbours_of(const double* xt, std::int64_t C, const std::int64_t* nb, std::int64_t k, double* m,
                            std::int32_t* arg) {
  max_over_neighbours(xt, C, nb, k, m, arg);
}

// Output points pooled per tile: the tile's [points][C] results are written
// to the channels-major output as runs of this many values per channel.
constexpr std::int64_t kPoolTilePoints = 16;

// xt is the points-major input [B, N, C]; out ([B, C, M]) and arg (the
// winning source index per output, written only when defined: inference
// does not need it) are channels-major, as the next convolution reads them.
template <typename T>
void neighbour_max_forward_kernel(const torch::Tensor& xt, const torch::Tensor& idx, torch::Tensor& out,
                                  torch::Tensor& arg) {
  const std::int64_t B = xt.size(0), N = xt.size(1), C = xt.size(2);
  const std::int64_t M = idx.size(1), k = idx.size(2);
  const T* xp = xt.data_ptr<T>();
  const std::int64_t* ip = idx.data_ptr<std::int64_t>();
  T* op = out.data_ptr<T>();
  std::int32_t* ap = arg.defined() ? arg.data_ptr<std::int32_t>() : nullptr;
  const std::int64_t tiles = (M + kPoolTilePoints - 1) / kPoolTilePoints;
  parallel_chunks(0, B * tiles, grain_for(kPoolTilePoints * k * C), [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> m(static_cast<std::size_t>(kPoolTilePoints * C));
    std::vector<std::int32_t> a(ap ? m.size() : 0);
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t b = t / tiles, i0 = (t % tiles) * kPoolTilePoints;
      const std::int64_t points = std::min(kPoolTilePoints, M - i0);
      for (std::int64_t p = 0; p < points; ++p)
        max_over_neighbours_of(xp + b * N * C, C, ip + (b * M + i0 + p) * k, k, m.data() + p * C,
                               ap ? a.data() + p * C : nullptr);
      for (std::int64_t c = 0; c < C; ++c) {
        const std::int64_t row = (b * C + c) * M + i0;
        for (std::int64_t p = 0; p < points; ++p) op[row + p] = m[p * C + c];
        if (ap)
          for (std::int64_t p = 0; p < points; ++p) ap[row + p] = a[p * C + c];
      }
    }
  });
}

// The points-major copy the forward kernel reads.
torch::Tensor points_major(const torch::Tensor& x) { return x.transpose(1, 2).contiguous(); }

template <typename T>
void neighbour_max_backward_kernel(const torch::Tensor& grad_out, const torch::Tensor& arg, torch::Tensor& grad_x) {
  const std::int64_t BC = grad_out.size(0) * grad_out.size(1), M = grad_out.size(2);
  const std::int64_t N = grad_x.size(2);
  const T* gp = grad_out.data_ptr<T>();
  const std::int32_t* ap = arg.data_ptr<std::int32_t>();
  T* xp = grad_x.data_ptr<T>();
  // Parallel over (batch, channel) rows: a row's scatter only touches its
  // own row of grad_x, so accumulation needs no atomics.
  parallel_chunks(0, BC, grain_for(M), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t bc = begin; bc < end; ++bc) {
      const T* g = gp + bc * M;
      const std::int32_t* a = ap + bc * M;
      T* gx = xp + bc * N;
      for (std::int64_t i = 0; i < M; ++i) gx[a[i]] += g[i];
    }
  });
}

class NeighbourMaxFunction : public torch::autograd::Function<NeighbourMaxFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& idx) {
    const std::int64_t B = x.size(0), C = x.size(1), M = idx.size(1);
    auto out = torch::empty({B, C, M}, x.options());
    // The winning source index per output; int32 halves its memory.
    auto arg = torch::empty({B, C, M}, x.options().dtype(torch::kInt));
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "neighbour_max_forward",
                               [&] { neighbour_max_forward_kernel<scalar_t>(points_major(x), idx, out, arg); });
    ctx->save_for_backward({arg});
    ctx->saved_data["points"] = x.size(2);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // The kernel is not itself differentiable; refuse rather than return a
    // silently wrong second derivative.
    TORCH_CHECK(!torch::GradMode::is_enabled(), "neighbour_max: double backward is not supported");
    auto arg = ctx->get_saved_variables()[0];
    auto grad_out = grads[0].contiguous();
    const std::int64_t N = ctx->saved_data["points"].toInt();
    auto grad_x = torch::zeros({grad_out.size(0), grad_out.size(1), N}, grad_out.options());
    AT_DISPATCH_FLOATING_TYPES(grad_out.scalar_type(), "neighbour_max_backward",
                               [&] { neighbour_max_backward_kernel<scalar_t>(grad_out, arg, grad_x); });
    return {grad_x, torch::Tensor()};
  }
};

// ---- local covariance ----

// Gathers point i's k neighbours into y ([k][3]) and centres them.
template <typename T>
inline void centred_neighbours(const T* xb, std::int64_t N, const std::int64_t* nb, std::int64_t k, T (*y)[3]) {
  T mean[3] = {0, 0, 0};
  for (std::int64_t j = 0; j < k; ++j)
    for (int r = 0; r < 3; ++r) {
      y[j][r] = xb[r * N + nb[j]];
      mean[r] += y[j][r];
    }
  for (int r = 0; r < 3; ++r) mean[r] /= static_cast<T>(k);
  for (std::int64_t j = 0; j < k; ++j)
    for (int r = 0; r < 3; ++r) y[j][r] -= mean[r];
}

template <typename T>
void covariance_forward_kernel(const torch::Tensor& x, const torch::Tensor& idx, torch::Tensor& out) {
  const std::int64_t B = x.size(0), N = x.size(2), k = idx.size(2);
  const T* xp = x.data_ptr<T>();
  const std::int64_t* ip = idx.data_ptr<std::int64_t>();
  T* op = out.data_ptr<T>();
  parallel_chunks(0, B * N, grain_for(12 * k), [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> ybuf(static_cast<std::size_t>(3 * k));
    auto y = reinterpret_cast<T(*)[3]>(ybuf.data());
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t b = t / N, i = t % N;
      centred_neighbours(xp + b * 3 * N, N, ip + t * k, k, y);
      T* ob = op + b * 9 * N + i;
      for (int r = 0; r < 3; ++r)
        for (int s = r; s < 3; ++s) {
          T acc = 0;
          for (std::int64_t j = 0; j < k; ++j) acc += y[j][r] * y[j][s];
          ob[(3 * r + s) * N] = acc;
          ob[(3 * s + r) * N] = acc;
        }
    }
  });
}

// With Y the centred neighbours and G the incoming gradient of C = Y^T Y,
// dL/dY = Y (G + G^T). The centring adds -(1/k) 1 1^T dL/dY, which is zero
// because Y's columns sum to zero, so dL/dP = Y (G + G^T), scattered to the
// neighbours' coordinates.
template <typename T>
void covariance_backward_kernel(const torch::Tensor& x, const torch::Tensor& idx, const torch::Tensor& grad_out,
                                torch::Tensor& grad_x) {
  const std::int64_t B = x.size(0), N = x.size(2), k = idx.size(2);
  const T* xp = x.data_ptr<T>();
  const std::int64_t* ip = idx.data_ptr<std::int64_t>();
  const T* gp = grad_out.data_ptr<T>();
  T* gxp = grad_x.data_ptr<T>();
  // Neighbourhoods overlap, so tasks are (batch, output coordinate): each
  // task is the only writer of its row grad_x[b, s, :].
  parallel_chunks(0, B * 3, grain_for(12 * k * N), [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> ybuf(static_cast<std::size_t>(3 * k));
    auto y = reinterpret_cast<T(*)[3]>(ybuf.data());
    for (std::int64_t task = begin; task < end; ++task) {
      const std::int64_t b = task / 3;
      const int s = static_cast<int>(task % 3);
      const T* xb = xp + b * 3 * N;
      const T* gb = gp + b * 9 * N;
      T* gx = gxp + (b * 3 + s) * N;
      for (std::int64_t i = 0; i < N; ++i) {
        // Column s of the symmetrised gradient.
        T col[3];
        for (int r = 0; r < 3; ++r) col[r] = gb[(3 * r + s) * N + i] + gb[(3 * s + r) * N + i];
        const std::int64_t* nb = ip + (b * N + i) * k;
        centred_neighbours(xb, N, nb, k, y);
        for (std::int64_t j = 0; j < k; ++j) gx[nb[j]] += y[j][0] * col[0] + y[j][1] * col[1] + y[j][2] * col[2];
      }
    }
  });
}

class LocalCovarianceFunction : public torch::autograd::Function<LocalCovarianceFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& idx) {
    auto out = torch::empty({x.size(0), 9, x.size(2)}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "local_covariance_forward",
                               [&] { covariance_forward_kernel<scalar_t>(x, idx, out); });
    ctx->save_for_backward({x, idx});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(), "local_covariance: double backward is not supported");
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& idx = saved[1];
    auto grad_out = grads[0].contiguous();
    auto grad_x = torch::zeros_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "local_covariance_backward",
                               [&] { covariance_backward_kernel<scalar_t>(x, idx, grad_out, grad_x); });
    return {grad_x, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor knn_indices(const torch::Tensor& x_in, std::int64_t k) {
  check_cpu_float(x_in, "knn_indices");
  TORCH_CHECK(x_in.dim() == 3, "knn_indices: expected [B, C, N], got ", x_in.sizes());
  TORCH_CHECK(k >= 1 && k <= x_in.size(2), "knn_indices: k = ", k, " must be in [1, N = ", x_in.size(2), "]");
  auto x = x_in.detach().contiguous();
  auto out = torch::empty({x.size(0), x.size(2), k}, x.options().dtype(torch::kLong));
  if (out.numel() == 0) return out;
  TORCH_CHECK(x.size(1) >= 1, "knn_indices: expected at least one channel");
  torch::NoGradGuard no_grad;
  // Distances in the input's precision even under bf16 autocast (the Gram
  // matrix of knn_gemm is a matrix product): neighbours must not change with
  // rounding.
  const c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "knn_indices", [&] {
    // The grid needs finite coordinates to bin them; anything else (a
    // diverged model) takes the brute-force path, which tolerates NaN.
    if (x.size(1) == 3 && x.size(2) >= kGridMinPoints && torch::isfinite(x).all().item<bool>())
      knn_grid<scalar_t>(x, k, out);
    else if (x.size(1) <= kDirectMaxChannels)
      knn_direct<scalar_t>(x, k, out);
    else
      knn_gemm<scalar_t>(x, k, out);
  });
  return out;
}

torch::Tensor neighbour_max(const torch::Tensor& x, const torch::Tensor& idx) {
  check_cpu_float(x, "neighbour_max");
  TORCH_CHECK(x.dim() == 3, "neighbour_max: expected x [B, C, N], got ", x.sizes());
  TORCH_CHECK(x.size(2) <= std::numeric_limits<std::int32_t>::max(), "neighbour_max: too many points");
  auto i = checked_indices(idx, x, "neighbour_max");
  if (!(torch::GradMode::is_enabled() && x.requires_grad())) {
    // Nothing to differentiate: skip the autograd node and the argmax.
    const auto xt = points_major(x);
    auto out = torch::empty({x.size(0), x.size(1), i.size(1)}, x.options());
    torch::Tensor no_arg;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "neighbour_max_forward",
                               [&] { neighbour_max_forward_kernel<scalar_t>(xt, i, out, no_arg); });
    return out;
  }
  return NeighbourMaxFunction::apply(x, i);
}

torch::Tensor local_covariance(const torch::Tensor& x, const torch::Tensor& idx) {
  check_cpu_float(x, "local_covariance");
  TORCH_CHECK(x.dim() == 3 && x.size(1) == 3, "local_covariance: expected x [B, 3, N], got ", x.sizes());
  auto i = checked_indices(idx, x, "local_covariance");
  TORCH_CHECK(i.size(1) == x.size(2), "local_covariance: expected indices [B, N, k], got ", i.sizes());
  return LocalCovarianceFunction::apply(x.contiguous(), i);
}

torch::Tensor knn_indices_reference(const torch::Tensor& x_in, std::int64_t k) {
  torch::NoGradGuard no_grad;
  auto x = x_in.detach();
  auto sq = x.pow(2).sum(1);                                 // [B, N]
  auto gram = torch::bmm(x.transpose(1, 2), x);              // [B, N, N]
  auto dist = sq.unsqueeze(2) + sq.unsqueeze(1) - 2 * gram;  // [B, N, N]
  return std::get<1>(dist.topk(k, /*dim=*/-1, /*largest=*/false, /*sorted=*/true));
}

torch::Tensor neighbour_max_reference(const torch::Tensor& x, const torch::Tensor& idx) {
  const std::int64_t B = x.size(0), C = x.size(1), M = idx.size(1), k = idx.size(2);
  auto flat = idx.reshape({B, 1, M * k}).expand({B, C, M * k});
  auto neighbours = x.gather(2, flat).view({B, C, M, k});
  return std::get<0>(neighbours.max(3));
}

torch::Tensor local_covariance_reference(const torch::Tensor& x, const torch::Tensor& idx) {
  const std::int64_t B = x.size(0), N = x.size(2), k = idx.size(2);
  auto flat = idx.reshape({B, 1, N * k}).expand({B, 3, N * k});
  auto p = x.gather(2, flat).view({B, 3, N, k});
  auto y = (p - p.mean(3, /*keepdim=*/true)).permute({0, 2, 1, 3});  // [B, N, 3, k]
  auto cov = torch::matmul(y, y.transpose(2, 3));                    // [B, N, 3, 3]
  return cov.reshape({B, N, 9}).permute({0, 2, 1}).contiguous();
}

}  // namespace molearn::knn
