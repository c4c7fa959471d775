#include "molearn/models/knn.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace molearn::knn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Below this many channels the distances are computed directly as sums of
// squared differences: exact (a point's distance to itself is exactly 0)
// and, for xyz, much cheaper than a GEMM with a 3-long inner dimension.
constexpr std::int64_t kDirectMaxChannels = 8;

// A distance tile of `rows` x N scalars stays within this many bytes, so a
// thread's tile lives in its L2 cache while it is scanned.
constexpr std::int64_t kTileBytes = 256 * 1024;

void check_cpu_float(const torch::Tensor& x, const char* what) {
  TORCH_CHECK(x.device().is_cpu(), what, ": expected a CPU tensor");
  TORCH_CHECK(x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble, what,
              ": expected a float or double tensor, got ", x.scalar_type());
}

// Validates idx against x ([B, C, N]) and returns it contiguous. Indices come
// from our own kernels in the model, but a bad index here would be an
// out-of-bounds read, so they are range-checked (cheap next to the kernels).
torch::Tensor checked_indices(const torch::Tensor& idx, const torch::Tensor& x, const char* what) {
  TORCH_CHECK(idx.dim() == 3 && idx.scalar_type() == torch::kLong, what,
              ": indices must be int64 [B, M, k], got ", idx.sizes(), " ", idx.scalar_type());
  TORCH_CHECK(idx.size(0) == x.size(0) && idx.size(2) >= 1, what, ": indices ", idx.sizes(),
              " do not match input ", x.sizes());
  TORCH_CHECK(idx.device().is_cpu(), what, ": expected CPU indices");
  if (idx.numel() > 0) {
    auto [lo, hi] = torch::aminmax(idx);
    TORCH_CHECK(lo.item<std::int64_t>() >= 0 && hi.item<std::int64_t>() < x.size(2), what,
                ": neighbour index out of range [0, ", x.size(2), ")");
  }
  return idx.contiguous();
}

// Running top-k of one row: a sorted (ascending) array of k distances and
// their column indices. k is small (16), so insertion by shifting beats a
// heap; most candidates are rejected by the single comparison with the
// current k-th distance.
template <typename T>
void row_top_k(const T* dist, std::int64_t n, std::int64_t k, T* best_d, std::int64_t* best_i) {
  std::fill(best_d, best_d + k, std::numeric_limits<T>::infinity());
  std::fill(best_i, best_i + k, std::int64_t{-1});
  T worst = std::numeric_limits<T>::infinity();
  for (std::int64_t j = 0; j < n; ++j) {
    const T v = dist[j];
    if (!(v < worst)) continue;  // also rejects NaN
    std::int64_t s = k - 1;
    while (s > 0 && best_d[s - 1] > v) {
      best_d[s] = best_d[s - 1];
      best_i[s] = best_i[s - 1];
      --s;
    }
    best_d[s] = v;
    best_i[s] = j;
    worst = best_d[k - 1];
  }
}

template <typename T>
void knn_kernel(const torch::Tensor& x, std::int64_t k, torch::Tensor& out) {
  const std::int64_t B = x.size(0), C = x.size(1), N = x.size(2);
  const T* xp = x.data_ptr<T>();
  std::int64_t* op = out.data_ptr<std::int64_t>();
  const bool direct = C <= kDirectMaxChannels;

  // Squared norms for the GEMM form |a|^2 + |b|^2 - 2 a.b.
  torch::Tensor sq;
  if (!direct) sq = x.pow(2).sum(1).contiguous();  // [B, N]
  const T* sqp = direct ? nullptr : sq.data_ptr<T>();

  const std::int64_t tile =
      std::clamp<std::int64_t>(kTileBytes / (N * static_cast<std::int64_t>(sizeof(T))), 8, 64);
  const std::int64_t tiles_per_item = (N + tile - 1) / tile;

  at::parallel_for(0, B * tiles_per_item, 1, [&](std::int64_t begin, std::int64_t end) {
    // No autograd inside the workers (grad mode is thread-local).
    torch::NoGradGuard no_grad;
    std::vector<T> buf(static_cast<std::size_t>(tile * N));
    std::vector<T> best_d(static_cast<std::size_t>(k));
    const auto opts = torch::TensorOptions().dtype(x.scalar_type());
    for (std::int64_t t = begin; t < end; ++t) {
      const std::int64_t b = t / tiles_per_item;
      const std::int64_t r0 = (t % tiles_per_item) * tile;
      const std::int64_t rows = std::min(tile, N - r0);
      const T* xb = xp + b * C * N;  // [C, N], one channel per row

      if (direct) {
        for (std::int64_t r = 0; r < rows; ++r) {
          T* d = buf.data() + r * N;
          std::fill(d, d + N, T(0));
          for (std::int64_t c = 0; c < C; ++c) {
            const T* xc = xb + c * N;
            const T xi = xc[r0 + r];
            for (std::int64_t j = 0; j < N; ++j) {  // vectorises over j
              const T diff = xc[j] - xi;
              d[j] += diff * diff;
            }
          }
        }
      } else {
        // Gram tile G = X[:, r0:r0+rows]^T X ([rows, N]) by one GEMM. The
        // tensors wrap raw pointers so the workers create no views of the
        // caller's tensors (which may be inference tensors).
        auto xb_t = torch::from_blob(const_cast<T*>(xb), {C, N}, opts);
        auto gram = torch::from_blob(buf.data(), {rows, N}, opts);
        at::mm_out(gram, xb_t.narrow(1, r0, rows).t(), xb_t);
        const T* sqb = sqp + b * N;
        for (std::int64_t r = 0; r < rows; ++r) {
          T* d = buf.data() + r * N;
          const T si = sqb[r0 + r];
          for (std::int64_t j = 0; j < N; ++j) d[j] = si + sqb[j] - T(2) * d[j];
        }
      }

      for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t i = r0 + r;
        std::int64_t* oi = op + (b * N + i) * k;
        row_top_k(buf.data() + r * N, N, k, best_d.data(), oi);
        // Only non-finite distances (a diverged model) leave slots empty;
        // fill them with the point itself so indices stay valid.
        for (std::int64_t s = 0; s < k; ++s)
          if (oi[s] < 0) oi[s] = i;
      }
    }
  });
}

// ---- neighbour max-pool ----

template <typename T>
void neighbour_max_forward_kernel(const torch::Tensor& x, const torch::Tensor& idx, torch::Tensor& out,
                                  torch::Tensor& arg) {
  const std::int64_t B = x.size(0), C = x.size(1), N = x.size(2);
  const std::int64_t M = idx.size(1), k = idx.size(2);
  const T* xp = x.data_ptr<T>();
  const std::int64_t* ip = idx.data_ptr<std::int64_t>();
  T* op = out.data_ptr<T>();
  std::int32_t* ap = arg.data_ptr<std::int32_t>();
  // One (batch, channel) row per task: the row of N inputs stays in L1
  // while the gathers hop around it, and rows never share outputs.
  const std::int64_t grain = std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, M * k));
  at::parallel_for(0, B * C, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t bc = begin; bc < end; ++bc) {
      const std::int64_t b = bc / C;
      const T* xr = xp + bc * N;
      const std::int64_t* ib = ip + b * M * k;
      T* orow = op + bc * M;
      std::int32_t* arow = ap + bc * M;
      for (std::int64_t i = 0; i < M; ++i) {
        const std::int64_t* nb = ib + i * k;
        std::int64_t best = nb[0];
        T m = xr[best];
        // First maximum wins; a NaN wins and sticks, as in torch.max.
        for (std::int64_t j = 1; j < k && !std::isnan(m); ++j) {
          const T v = xr[nb[j]];
          if (v > m || std::isnan(v)) {
            m = v;
            best = nb[j];
          }
        }
        orow[i] = m;
        arow[i] = static_cast<std::int32_t>(best);
      }
    }
  });
}

template <typename T>
void neighbour_max_backward_kernel(const torch::Tensor& grad_out, const torch::Tensor& arg,
                                   torch::Tensor& grad_x) {
  const std::int64_t BC = grad_out.size(0) * grad_out.size(1), M = grad_out.size(2);
  const std::int64_t N = grad_x.size(2);
  const T* gp = grad_out.data_ptr<T>();
  const std::int32_t* ap = arg.data_ptr<std::int32_t>();
  T* xp = grad_x.data_ptr<T>();
  // Parallel over (batch, channel) rows: a row's scatter only touches its
  // own row of grad_x, so accumulation needs no atomics.
  const std::int64_t grain = std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, M));
  at::parallel_for(0, BC, grain, [&](std::int64_t begin, std::int64_t end) {
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
                               [&] { neighbour_max_forward_kernel<scalar_t>(x, idx, out, arg); });
    ctx->save_for_backward({arg});
    ctx->saved_data["points"] = x.size(2);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
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
  at::parallel_for(0, B * N, 256, [&](std::int64_t begin, std::int64_t end) {
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
  at::parallel_for(0, B * 3, 1, [&](std::int64_t begin, std::int64_t end) {
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
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "knn_indices", [&] { knn_kernel<scalar_t>(x, k, out); });
  return out;
}

torch::Tensor neighbour_max(const torch::Tensor& x, const torch::Tensor& idx) {
  check_cpu_float(x, "neighbour_max");
  TORCH_CHECK(x.dim() == 3, "neighbour_max: expected x [B, C, N], got ", x.sizes());
  TORCH_CHECK(x.size(2) <= std::numeric_limits<std::int32_t>::max(), "neighbour_max: too many points");
  auto i = checked_indices(idx, x, "neighbour_max");
  return NeighbourMaxFunction::apply(x.contiguous(), i);
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
  auto sq = x.pow(2).sum(1);                               // [B, N]
  auto gram = torch::bmm(x.transpose(1, 2), x);            // [B, N, N]
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
  auto cov = torch::matmul(y, y.transpose(2, 3));                     // [B, N, 3, 3]
  return cov.reshape({B, N, 9}).permute({0, 2, 1}).contiguous();
}

}  // namespace molearn::knn
