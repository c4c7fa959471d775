#include "molearn/analysis/rmsd.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"

namespace molearn {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A conformation centred on its centroid, stored in float (half the memory
// traffic of double; the sums stay in double). `yzx` and `zxy` hold each
// atom's coordinates rotated (y z x, z x y), so that every product a_r b_c of
// the cross-covariance is an elementwise product of two flat arrays (see
// accumulate). Everything below uses the float values b' exactly, so the
// result is the RMSD to b', within 1e-6 A of the RMSD to b; `sum` (sum b',
// not exactly 0 after rounding) and `inner` (sum |b' - mean b'|^2) keep it so.
struct Centred {
  std::vector<float> xyz, yzx, zxy;
  double sum[3] = {0, 0, 0};
  double inner = 0;
};

Centred centred(std::span<const float> x) {
  const std::size_t n = x.size() / 3;
  double c[3] = {0, 0, 0};
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) c[k] += x[3 * i + k];
  for (double& v : c) v /= static_cast<double>(n);
  Centred out;
  out.xyz.resize(x.size());
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) {
      const float v = static_cast<float>(x[3 * i + k] - c[k]);
      out.xyz[3 * i + k] = v;
      out.sum[k] += v;
      out.inner += double(v) * v;
    }
  for (double v : out.sum) out.inner -= v * v / static_cast<double>(n);
  out.yzx.resize(x.size());
  out.zxy.resize(x.size());
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) {
      out.yzx[3 * i + k] = out.xyz[3 * i + (k + 1) % 3];
      out.zxy[3 * i + k] = out.xyz[3 * i + (k + 2) % 3];
    }
  return out;
}

// Sums over the atoms of `a` against a centred reference, in double:
// sum a_r, sum |a|^2 and M = sum a b^T. The flat arrays are walked in
// independent lanes of kLanes values (lane l holds component l % 3), which
// the compiler turns into vector instructions without reordering any sum;
// target_clones adds AVX-512 and AVX2+FMA versions (x86-64-v4, -v3), chosen
// at load time by what the CPU has: the build itself targets plain x86-64.
constexpr std::size_t kLanes = 12;

struct QcpSums {
  double sum[3] = {0, 0, 0};
  double squares = 0;
  double m[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
};

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void accumulate_lanes(
    const float* a, const float* xyz, const float* yzx, const float* zxy, std::size_t count, double* lanes) {
  double s[kLanes] = {}, q[kLanes] = {}, p0[kLanes] = {}, p1[kLanes] = {}, p2[kLanes] = {};
  std::size_t k = 0;
  for (; k + kLanes <= count; k += kLanes)
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double x = a[k + l];
      s[l] += x;
      q[l] += x * x;
      p0[l] += x * double(xyz[k + l]);
      p1[l] += x * double(yzx[k + l]);
      p2[l] += x * double(zxy[k + l]);
    }
  for (std::size_t l = 0; k < count; ++k, ++l) {
    const double x = a[k];
    s[l] += x;
    q[l] += x * x;
    p0[l] += x * double(xyz[k]);
    p1[l] += x * double(yzx[k]);
    p2[l] += x * double(zxy[k]);
  }
  for (std::size_t l = 0; l < kLanes; ++l) {
    lanes[l] = s[l];
    lanes[kLanes + l] = q[l];
    lanes[2 * kLanes + l] = p0[l];
    lanes[3 * kLanes + l] = p1[l];
    lanes[4 * kLanes + l] = p2[l];
  }
}

// sum (a_k - b_k)^2 in double, in lanes as accumulate_lanes.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) double squared_distance_sum(
    const float* a, const float* b, std::size_t count) {
  double lanes[kLanes] = {};
  std::size_t k = 0;
  for (; k + kLanes <= count; k += kLanes)
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double d = double(a[k + l]) - double(b[k + l]);
      lanes[l] += d * d;
    }
  double total = 0;
  for (; k < count; ++k) total += (double(a[k]) - double(b[k])) * (double(a[k]) - double(b[k]));
  for (double v : lanes) total += v;
  return total;
}

QcpSums accumulate(std::span<const float> a, const Centred& b) {
  double lanes[5 * kLanes];
  accumulate_lanes(a.data(), b.xyz.data(), b.yzx.data(), b.zxy.data(), a.size(), lanes);
  QcpSums out;
  for (std::size_t l = 0; l < kLanes; ++l) {
    const std::size_t r = l % 3;  // the component of a in this lane
    out.sum[r] += lanes[l];
    out.squares += lanes[kLanes + l];
    out.m[3 * r + r] += lanes[2 * kLanes + l];
    out.m[3 * r + (r + 1) % 3] += lanes[3 * kLanes + l];
    out.m[3 * r + (r + 2) % 3] += lanes[4 * kLanes + l];
  }
  // M of the centred a and centred b': sum a b'^T - (sum a)(sum b')^T / n.
  const double n = static_cast<double>(a.size() / 3);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) out.m[3 * r + c] -= out.sum[r] * b.sum[c] / n;
  return out;
}

double det3(const double m[9]) {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

// Determinant of a symmetric 4x4 matrix by cofactor expansion along its first row.
double det4(const double k[4][4]) {
  double total = 0;
  for (int col = 0; col < 4; ++col) {
    double minor[9];
    int m = 0;
    for (int r = 1; r < 4; ++r)
      for (int c = 0; c < 4; ++c)
        if (c != col) minor[m++] = k[r][c];
    total += (col % 2 == 0 ? 1 : -1) * k[0][col] * det3(minor);
  }
  return total;
}

// The largest eigenvalue of Horn's key matrix built from M = sum a_i b_i^T
// (both centred), by Newton's method on its characteristic polynomial
// P(l) = l^4 + c2 l^2 + c1 l + c0 from the upper bound (G_a + G_b) / 2.
double largest_eigenvalue(const double s[9], double inner_sum) {
  const double sxx = s[0], sxy = s[1], sxz = s[2], syx = s[3], syy = s[4], syz = s[5], szx = s[6], szy = s[7],
               szz = s[8];
  const double k[4][4] = {{sxx + syy + szz, syz - szy, szx - sxz, sxy - syx},
                          {syz - szy, sxx - syy - szz, sxy + syx, szx + sxz},
                          {szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy},
                          {sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz}};
  double squares = 0;
  for (int i = 0; i < 9; ++i) squares += s[i] * s[i];
  const double c2 = -2 * squares, c1 = -8 * det3(s), c0 = det4(k);
  double l = inner_sum / 2;
  for (int iteration = 0; iteration < 100; ++iteration) {
    const double l2 = l * l;
    const double p = (l2 + c2) * l2 + c1 * l + c0;
    const double dp = 4 * l2 * l + 2 * c2 * l + c1;
    if (dp == 0) break;  // a flat polynomial at l: only for all-zero structures
    const double next = l - p / dp;
    const bool converged = std::abs(next - l) <= 1e-11 * std::abs(next);
    l = next;
    if (converged) break;
  }
  return l;
}

// RMSD of `a` to an already centred reference, in one pass over `a`: the
// centring of `a` is folded into the sums (G_a = sum |a_i|^2 - n |mean a|^2).
double qcp_to_centred(std::span<const float> a, const Centred& b) {
  const std::size_t n = a.size() / 3;
  if (n == 0) return kNaN;
  const QcpSums sums = accumulate(a, b);
  const double* m = sums.m;
  double inner_a = sums.squares;
  for (double v : sums.sum) inner_a -= v * v / static_cast<double>(n);
  // A non-finite coordinate anywhere leaves a non-finite sum here.
  if (!std::isfinite(inner_a) || !std::isfinite(b.inner)) return kNaN;
  for (int k = 0; k < 9; ++k)
    if (!std::isfinite(m[k])) return kNaN;
  const double inner_sum = inner_a + b.inner;
  if (inner_sum <= 0) return 0;  // both structures are a single point
  const double l = largest_eigenvalue(m, inner_sum);
  const double msd = (inner_sum - 2 * l) / static_cast<double>(n);
  return msd > 0 ? std::sqrt(msd) : 0;  // rounding may leave -1e-13
}

void check_sizes(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || a.size() % 3 != 0)
    throw InputError("RMSD of conformations of different sizes: " + std::to_string(a.size() / 3) + " and " +
                     std::to_string(b.size() / 3) + " atoms");
}

}  // namespace

double qcp_rmsd(std::span<const float> a, std::span<const float> b) {
  check_sizes(a, b);
  if (a.empty()) return kNaN;
  return qcp_to_centred(a, centred(b));
}

double unfitted_rmsd(std::span<const float> a, std::span<const float> b) {
  check_sizes(a, b);
  if (a.empty()) return kNaN;
  return std::sqrt(squared_distance_sum(a.data(), b.data(), a.size()) / static_cast<double>(a.size() / 3));
}

MetricTable rmsd_metrics(const Conformers& c, std::span<const float> reference_xyz, int threads) {
  if (reference_xyz.size() != 3 * c.atom_count())
    throw InputError("RMSD reference has " + std::to_string(reference_xyz.size() / 3) + " atoms; the frames have " +
                     std::to_string(c.atom_count()));
  MetricTable table{{"rmsd", "rmsd_unfitted"}, std::vector<std::vector<double>>(c.frame_count)};
  const Centred reference = centred(reference_xyz);
  parallel_for(c.frame_count, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t f = begin; f < end; ++f) {
      const bool empty = c.atom_count() == 0;
      table.rows[f] = {empty ? kNaN : qcp_to_centred(c.frame(f), reference),
                       empty ? kNaN : unfitted_rmsd(c.frame(f), reference_xyz)};
    }
  });
  return table;
}

}  // namespace molearn
