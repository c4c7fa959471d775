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

// A conformation centred on its centroid, with its inner product G = sum |x|^2.
struct Centred {
  std::vector<double> xyz;
  double inner = 0;
};

Centred centred(std::span<const float> x) {
  const std::size_t n = x.size() / 3;
  double c[3] = {0, 0, 0};
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) c[k] += x[3 * i + k];
  for (double& v : c) v /= static_cast<double>(n);
  Centred out{std::vector<double>(x.size()), 0};
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) {
      const double v = x[3 * i + k] - c[k];
      out.xyz[3 * i + k] = v;
      out.inner += v * v;
    }
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

// RMSD of `a` to an already centred reference, in one pass over `a`: since
// sum_i b_i = 0, M = sum a_i b_i^T needs no centring of `a`, and
// G_a = sum |a_i|^2 - n |mean a|^2.
double qcp_to_centred(std::span<const float> a, const Centred& b) {
  const std::size_t n = a.size() / 3;
  if (n == 0) return kNaN;
  double sum[3] = {0, 0, 0}, squares = 0, m[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const float* x = &a[3 * i];
    const double* y = &b.xyz[3 * i];
    for (int r = 0; r < 3; ++r) {
      sum[r] += x[r];
      squares += double(x[r]) * x[r];
      for (int c = 0; c < 3; ++c) m[3 * r + c] += x[r] * y[c];
    }
  }
  double inner_a = squares;
  for (double v : sum) inner_a -= v * v / static_cast<double>(n);
  // A non-finite coordinate anywhere leaves a non-finite sum here.
  if (!std::isfinite(inner_a) || !std::isfinite(b.inner)) return kNaN;
  for (double v : m)
    if (!std::isfinite(v)) return kNaN;
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
  double total = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - b[i];
    total += d * d;
  }
  return std::sqrt(total / static_cast<double>(a.size() / 3));
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
