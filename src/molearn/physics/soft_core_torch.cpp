#include "molearn/physics/soft_core_torch.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"

namespace molearn {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Sum over rows [row_begin, row_end) of the pairs (i, j > i) of
// t = 1 / (u^2 + 1), u = r^2 / w^2, returned in double; and, with
// w_ij = u t^2 and d = x_j - x_i, f_j += w_ij d, f_i -= w_ij d (the forces
// up to the factor 4 C / w^2, applied by the caller). Coordinates and force
// accumulators are one array per axis, so that consecutive j fill a vector
// register. GCC vector extensions make the vectorisation explicit: without
// -ffast-math the compiler would not vectorise the row sums by itself.
template <typename T>
[[gnu::always_inline]] inline double pair_rows(const T* xs, const T* ys, const T* zs, T* fx, T* fy, T* fz,
                                               std::int64_t n, std::int64_t row_begin, std::int64_t row_end, T inv_w2) {
  typedef T Vec __attribute__((vector_size(32)));
  constexpr std::int64_t kLanes = 32 / sizeof(T);
  double total = 0;
  for (std::int64_t i = row_begin; i < row_end; ++i) {
    const T xi = xs[i], yi = ys[i], zi = zs[i];
    Vec acc_e = {}, acc_x = {}, acc_y = {}, acc_z = {};
    std::int64_t j = i + 1;
    for (; j + kLanes <= n; j += kLanes) {
      Vec dx, dy, dz, gx, gy, gz;
      std::memcpy(&dx, xs + j, sizeof(Vec));
      std::memcpy(&dy, ys + j, sizeof(Vec));
      std::memcpy(&dz, zs + j, sizeof(Vec));
      dx -= xi;
      dy -= yi;
      dz -= zi;
      const Vec u = (dx * dx + dy * dy + dz * dz) * inv_w2;
      const Vec t = T(1) / (u * u + T(1));
      const Vec w = u * t * t;
      acc_e += t;
      const Vec wx = w * dx, wy = w * dy, wz = w * dz;
      acc_x += wx;
      acc_y += wy;
      acc_z += wz;
      std::memcpy(&gx, fx + j, sizeof(Vec));
      std::memcpy(&gy, fy + j, sizeof(Vec));
      std::memcpy(&gz, fz + j, sizeof(Vec));
      gx += wx;
      gy += wy;
      gz += wz;
      std::memcpy(fx + j, &gx, sizeof(Vec));
      std::memcpy(fy + j, &gy, sizeof(Vec));
      std::memcpy(fz + j, &gz, sizeof(Vec));
    }
    double row_e = 0;
    T row_x = 0, row_y = 0, row_z = 0;
    for (std::int64_t l = 0; l < kLanes; ++l) {
      row_e += acc_e[l];
      row_x += acc_x[l];
      row_y += acc_y[l];
      row_z += acc_z[l];
    }
    for (; j < n; ++j) {
      const T dx = xs[j] - xi, dy = ys[j] - yi, dz = zs[j] - zi;
      const T u = (dx * dx + dy * dy + dz * dz) * inv_w2;
      const T t = T(1) / (u * u + T(1));
      const T w = u * t * t;
      row_e += t;
      row_x += w * dx;
      row_y += w * dy;
      row_z += w * dz;
      fx[j] += w * dx;
      fy[j] += w * dy;
      fz[j] += w * dz;
    }
    fx[i] -= row_x;
    fy[i] -= row_y;
    fz[i] -= row_z;
    total += row_e;
  }
  return total;
}

// Compiled for AVX2+FMA and for the baseline; the loader picks the clone the
// CPU runs (the project builds for generic x86-64).
__attribute__((target_clones("arch=haswell", "default"))) double pair_rows_float(const float* xs, const float* ys,
                                                                                 const float* zs, float* fx, float* fy,
                                                                                 float* fz, std::int64_t n,
                                                                                 std::int64_t row_begin,
                                                                                 std::int64_t row_end, float inv_w2) {
  return pair_rows<float>(xs, ys, zs, fx, fy, fz, n, row_begin, row_end, inv_w2);
}

__attribute__((target_clones("arch=haswell", "default"))) double pair_rows_double(
    const double* xs, const double* ys, const double* zs, double* fx, double* fy, double* fz, std::int64_t n,
    std::int64_t row_begin, std::int64_t row_end, double inv_w2) {
  return pair_rows<double>(xs, ys, zs, fx, fy, fz, n, row_begin, row_end, inv_w2);
}

inline double pair_rows_any(const float* xs, const float* ys, const float* zs, float* fx, float* fy, float* fz,
                            std::int64_t n, std::int64_t b, std::int64_t e, float inv_w2) {
  return pair_rows_float(xs, ys, zs, fx, fy, fz, n, b, e, inv_w2);
}
inline double pair_rows_any(const double* xs, const double* ys, const double* zs, double* fx, double* fy, double* fz,
                            std::int64_t n, std::int64_t b, std::int64_t e, double inv_w2) {
  return pair_rows_double(xs, ys, zs, fx, fy, fz, n, b, e, inv_w2);
}

// First row of part p of `parts` parts of the triangle i < j < n with about
// equal numbers of pairs (row i holds n - 1 - i pairs).
std::int64_t part_start(std::int64_t n, std::int64_t p, std::int64_t parts) {
  if (p >= parts) return n;
  const double total = 0.5 * static_cast<double>(n) * static_cast<double>(n - 1);
  const double target = total * static_cast<double>(p) / static_cast<double>(parts);
  std::int64_t row = 0;
  double before = 0;
  while (row < n && before + 0.5 * static_cast<double>(n - 1 - row) < target) {
    before += static_cast<double>(n - 1 - row);
    ++row;
  }
  return row;
}

// Runs task(t) for t in [0, count) on the library's thread pool
// (core/parallel_for.hpp), with torch's thread count; tasks go to whichever
// thread is free.
template <typename F>
void run_tasks(std::int64_t count, const F& task) {
  const int threads = at::in_parallel_region() ? 1 : std::max(1, at::get_num_threads());
  parallel_tasks(static_cast<std::size_t>(count), threads,
                 [&](std::size_t t, std::size_t) { task(static_cast<std::int64_t>(t)); });
}

template <typename T>
void soft_core_kernel(const torch::Tensor& x, const torch::Tensor& exclusions, double strength, double width,
                      torch::Tensor& energies, torch::Tensor& forces) {
  const std::int64_t batch = x.size(0), n = x.size(1);
  const std::int64_t threads = std::max(1, at::get_num_threads());
  // Small batches: split each structure's triangle too, so every thread works.
  const std::int64_t parts = std::max<std::int64_t>(1, (threads + batch - 1) / batch);
  const T inv_w2 = static_cast<T>(1.0 / (width * width));
  const T* xp = x.data_ptr<T>();
  const std::int64_t* ex = exclusions.data_ptr<std::int64_t>();
  const std::int64_t excluded = exclusions.size(0);
  // Partial sums per part, added up below; with one part this is the result.
  std::vector<double> partial_e(static_cast<std::size_t>(batch * parts), 0.0);
  std::vector<T> partial_f(static_cast<std::size_t>(batch * parts * 3 * n), T(0));

  run_tasks(batch * parts, [&](std::int64_t task) {
    const std::int64_t b = task / parts, p = task % parts;
    std::vector<T> buffer(static_cast<std::size_t>(6 * n), T(0));
    T* xs = buffer.data();
    T *ys = xs + n, *zs = ys + n, *fx = zs + n, *fy = fx + n, *fz = fy + n;
    const T* xb = xp + b * n * 3;
    for (std::int64_t i = 0; i < n; ++i) {
      xs[i] = xb[3 * i];
      ys[i] = xb[3 * i + 1];
      zs[i] = xb[3 * i + 2];
    }
    double sum = pair_rows_any(xs, ys, zs, fx, fy, fz, n, part_start(n, p, parts), part_start(n, p + 1, parts), inv_w2);
    if (p == 0) {
      // Take the excluded pairs back out, with the same arithmetic.
      for (std::int64_t e = 0; e < excluded; ++e) {
        const std::int64_t i = ex[2 * e], j = ex[2 * e + 1];
        const T dx = xs[j] - xs[i], dy = ys[j] - ys[i], dz = zs[j] - zs[i];
        const T u = (dx * dx + dy * dy + dz * dz) * inv_w2;
        const T t = T(1) / (u * u + T(1));
        const T w = u * t * t;
        sum -= t;
        fx[j] -= w * dx;
        fy[j] -= w * dy;
        fz[j] -= w * dz;
        fx[i] += w * dx;
        fy[i] += w * dy;
        fz[i] += w * dz;
      }
    }
    partial_e[static_cast<std::size_t>(task)] = sum;
    T* out = partial_f.data() + task * 3 * n;
    for (std::int64_t i = 0; i < n; ++i) {
      out[3 * i] = fx[i];
      out[3 * i + 1] = fy[i];
      out[3 * i + 2] = fz[i];
    }
  });

  // E = C * sum t; F_j = -dE/dx_j = 4 C / w^2 * sum_i w_ij (x_j - x_i).
  const T force_scale = static_cast<T>(4.0 * strength / (width * width));
  double* ep = energies.data_ptr<double>();
  T* fp = forces.data_ptr<T>();
  for (std::int64_t b = 0; b < batch; ++b) {
    double sum = 0;
    T* fb = fp + b * 3 * n;
    std::fill(fb, fb + 3 * n, T(0));
    for (std::int64_t p = 0; p < parts; ++p) {
      sum += partial_e[static_cast<std::size_t>(b * parts + p)];
      const T* part = partial_f.data() + (b * parts + p) * 3 * n;
      for (std::int64_t k = 0; k < 3 * n; ++k) fb[k] += part[k];
    }
    ep[b] = strength * sum;
    for (std::int64_t k = 0; k < 3 * n; ++k) fb[k] *= force_scale;
  }
}

void check_inputs(const torch::Tensor& xyz, const SoftCoreParameters& parameters) {
  if (xyz.dim() != 3 || xyz.size(2) != 3) throw InputError("soft core: expected coordinates [batch, atoms, 3]");
  const auto& ex = parameters.exclusions;
  if (ex.defined() && ex.numel() > 0) {
    if (ex.dim() != 2 || ex.size(1) != 2 || ex.scalar_type() != torch::kLong)
      throw InputError("soft core: exclusions must be an int64 tensor [pairs, 2]");
    if (ex.min().item<std::int64_t>() < 0 || ex.max().item<std::int64_t>() >= xyz.size(1))
      throw InputError("soft core: an excluded pair names an atom outside the structure");
  }
  if (!(parameters.width_nm > 0)) throw InputError("soft core: the width must be positive");
}

torch::Tensor exclusion_list(const SoftCoreParameters& parameters) {
  if (!parameters.exclusions.defined() || parameters.exclusions.numel() == 0) return torch::zeros({0, 2}, torch::kLong);
  return parameters.exclusions.to(torch::kCPU).contiguous();
}

class SoftCoreFunction : public torch::autograd::Function<SoftCoreFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& xyz, const torch::Tensor& exclusions,
                               double strength, double width) {
    SoftCoreParameters parameters{strength, width, exclusions};
    auto [energies, forces] = soft_core_energies_and_forces(xyz, parameters);
    ctx->saved_data["forces"] = forces;
    return energies.to(xyz.options());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor forces = ctx->saved_data["forces"].toTensor();
    return {-forces * grads[0].to(forces.dtype()).view({-1, 1, 1}), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> soft_core_energies_and_forces(const torch::Tensor& xyz_nm,
                                                                      const SoftCoreParameters& parameters) {
  check_inputs(xyz_nm, parameters);
  if (!xyz_nm.device().is_cpu()) throw InputError("soft core: the kernel runs on the CPU; use the blocked version");
  const torch::Tensor x = xyz_nm.scalar_type() == torch::kDouble ? xyz_nm.detach().contiguous()
                                                                 : xyz_nm.detach().to(torch::kFloat).contiguous();
  const torch::Tensor exclusions = exclusion_list(parameters);
  torch::Tensor energies = torch::empty({x.size(0)}, torch::kDouble);
  torch::Tensor forces = torch::empty_like(x);
  if (x.scalar_type() == torch::kDouble)
    soft_core_kernel<double>(x, exclusions, parameters.strength, parameters.width_nm, energies, forces);
  else
    soft_core_kernel<float>(x, exclusions, parameters.strength, parameters.width_nm, energies, forces);
  return {energies, forces};
}

torch::Tensor soft_core_energy(const torch::Tensor& xyz_nm, const SoftCoreParameters& parameters) {
  check_inputs(xyz_nm, parameters);
  return SoftCoreFunction::apply(xyz_nm, exclusion_list(parameters), parameters.strength, parameters.width_nm);
}

torch::Tensor soft_core_energy_blocked(const torch::Tensor& xyz_nm, const SoftCoreParameters& parameters,
                                       std::int64_t block_rows) {
  check_inputs(xyz_nm, parameters);
  const std::int64_t batch = xyz_nm.size(0), n = xyz_nm.size(1);
  if (block_rows <= 0)
    block_rows = std::max<std::int64_t>(1, (std::int64_t{1} << 24) / std::max<std::int64_t>(1, 3 * batch * n));
  const double inv_w2 = 1.0 / (parameters.width_nm * parameters.width_nm);
  auto pair_terms = [&](const torch::Tensor& d2) {
    const torch::Tensor u = d2 * inv_w2;
    return 1.0 / (u * u + 1.0);
  };
  const auto index_options = torch::TensorOptions().dtype(torch::kLong).device(xyz_nm.device());
  const torch::Tensor columns = torch::arange(n, index_options);
  torch::Tensor sum = torch::zeros({batch}, xyz_nm.options());
  for (std::int64_t i0 = 0; i0 < n; i0 += block_rows) {
    const std::int64_t i1 = std::min(n, i0 + block_rows);
    const torch::Tensor rows = xyz_nm.slice(1, i0, i1);
    const torch::Tensor d2 = (rows.unsqueeze(2) - xyz_nm.unsqueeze(1)).pow(2).sum(-1);  // [B, R, N]
    const torch::Tensor upper = columns.unsqueeze(0) > torch::arange(i0, i1, index_options).unsqueeze(1);
    sum = sum + (pair_terms(d2) * upper.to(xyz_nm.scalar_type())).sum({1, 2});
  }
  const torch::Tensor ex = exclusion_list(parameters).to(xyz_nm.device());
  if (ex.size(0) > 0) {
    const torch::Tensor a = xyz_nm.index_select(1, ex.select(1, 0)), b = xyz_nm.index_select(1, ex.select(1, 1));
    sum = sum - pair_terms((b - a).pow(2).sum(-1)).sum(1);
  }
  return parameters.strength * sum;
}

}  // namespace molearn
