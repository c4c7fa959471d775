#include "molearn/analysis/ensemble_comparison.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>

#include "molearn/analysis/rmsd.hpp"
#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"
#include "molearn/data/geometry.hpp"

namespace molearn {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string describe(const Atom& a) {
  return (a.chain.empty() ? "" : a.chain + ":") + a.res_name + " " + std::to_string(a.res_seq) +
         (a.ins_code == ' ' ? "" : std::string(1, a.ins_code)) + " " + a.name;
}

void check_same_topology(const Topology& g, const Topology& r) {
  if (g.atom_count() != r.atom_count())
    throw InputError("the generated ensemble has " + std::to_string(g.atom_count()) + " atoms, the reference " +
                     std::to_string(r.atom_count()) + ": ensembles must share one topology");
  for (std::size_t i = 0; i < g.atom_count(); ++i) {
    const Atom &a = g.atom(i), &b = r.atom(i);
    if (a.name != b.name || a.res_name != b.res_name || a.res_seq != b.res_seq || a.chain != b.chain ||
        a.ins_code != b.ins_code)
      throw InputError("the ensembles' topologies differ at atom " + std::to_string(i) + ": " + describe(a) +
                       " (generated) vs " + describe(b) + " (reference)");
  }
}

bool all_finite(std::span<const float> x) {
  return std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v); });
}

// CA coordinates of every frame: [frame][ca][xyz].
struct CaFrames {
  std::size_t count = 0, width = 0;  // frames, floats per frame
  std::vector<float> xyz;
  std::span<float> frame(std::size_t f) { return {xyz.data() + f * width, width}; }
  std::span<const float> frame(std::size_t f) const { return {xyz.data() + f * width, width}; }
};

CaFrames ca_frames(const Conformers& c, const std::vector<std::size_t>& ca) {
  CaFrames out{c.frame_count, 3 * ca.size(), {}};
  out.xyz.reserve(out.count * out.width);
  for (std::size_t f = 0; f < c.frame_count; ++f)
    for (std::size_t i : ca) out.xyz.insert(out.xyz.end(), &c.frame(f)[3 * i], &c.frame(f)[3 * i] + 3);
  return out;
}

// Superposes every frame on `target` in place; a frame (or target) with a
// non-finite coordinate becomes all NaN rather than reaching the SVD.
void superpose_all(CaFrames& frames, std::span<const float> target, int threads) {
  const bool target_ok = all_finite(target);
  parallel_for(frames.count, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t f = begin; f < end; ++f) {
      const std::span<float> x = frames.frame(f);
      if (target_ok && all_finite(x))
        superpose(x, target);
      else
        std::fill(x.begin(), x.end(), std::numeric_limits<float>::quiet_NaN());
    }
  });
}

// Mean over the frames; `finite_only` leaves out frames with a non-finite coordinate.
std::vector<double> mean_structure(const CaFrames& frames, bool finite_only) {
  std::vector<double> mean(frames.width, 0.0);
  std::size_t used = 0;
  for (std::size_t f = 0; f < frames.count; ++f) {
    if (finite_only && !all_finite(frames.frame(f))) continue;
    for (std::size_t k = 0; k < frames.width; ++k) mean[k] += frames.frame(f)[k];
    ++used;
  }
  for (double& v : mean) v = used ? v / double(used) : kNaN;
  return mean;
}

// The reference's mean structure, iterated to self-consistency (see the header).
std::vector<float> reference_mean(const CaFrames& reference, int threads) {
  std::vector<float> target(reference.width, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t f = 0; f < reference.count; ++f)
    if (all_finite(reference.frame(f))) {
      std::copy_n(reference.frame(f).begin(), reference.width, target.begin());
      break;
    }
  for (int round = 0; round < 10 && all_finite(target); ++round) {
    CaFrames aligned = reference;
    superpose_all(aligned, target, threads);
    const std::vector<double> mean = mean_structure(aligned, true);
    double change = 0;
    for (std::size_t k = 0; k < mean.size(); ++k) {
      change += (mean[k] - target[k]) * (mean[k] - target[k]);
      target[k] = static_cast<float>(mean[k]);
    }
    if (std::sqrt(change / double(std::max<std::size_t>(1, mean.size() / 3))) < 1e-4) break;
  }
  return target;
}

std::vector<double> rmsf(const CaFrames& aligned) {
  const std::vector<double> mean = mean_structure(aligned, false);
  std::vector<double> out(aligned.width / 3, 0.0);
  for (std::size_t f = 0; f < aligned.count; ++f)
    for (std::size_t a = 0; a < out.size(); ++a)
      for (int k = 0; k < 3; ++k) {
        const double d = aligned.frame(f)[3 * a + k] - mean[3 * a + k];
        out[a] += d * d;
      }
  for (double& v : out) v = aligned.count ? std::sqrt(v / double(aligned.count)) : kNaN;
  return out;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 2) return kNaN;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i] / double(n);
    my += y[i] / double(n);
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : kNaN;
}

// RMSDs of pairs (i, j) of frames: every i < j of `a` when `b` is null, else
// every (i in a, j in b), in row-major order. Split over the flat pair index
// so that the triangle's long first rows do not all land on one thread.
std::vector<double> pairwise_rmsd(const Conformers& a, const Conformers* b, int threads) {
  const std::size_t n = a.frame_count, m = b ? b->frame_count : a.frame_count;
  const std::size_t total = b ? n * m : n * (n - (n > 0)) / 2;
  std::vector<double> out(total);
  parallel_for(total, threads, [&](std::size_t begin, std::size_t end) {
    std::size_t i = 0, j = 0, k = 0;
    if (b) {
      i = begin / m, j = begin % m;
    } else {  // find the row of pair `begin`
      std::size_t row_start = 0;
      while (row_start + (n - i - 1) <= begin) row_start += n - i - 1, ++i;
      j = i + 1 + (begin - row_start);
    }
    for (k = begin; k < end; ++k) {
      out[k] = qcp_rmsd(a.frame(i), b ? b->frame(j) : a.frame(j));
      if (++j == m) {
        ++i;
        j = b ? 0 : i + 1;
      }
    }
  });
  return out;
}

// The first two principal axes of the centred rows of x (frames x coordinates),
// and the fraction of the total variance they hold.
struct Principal {
  Eigen::MatrixXd axes;  // coordinates x 2
  double fraction = kNaN;
};

Principal principal_axes(const Eigen::MatrixXd& x) {
  Principal p;
  // Through the smaller of the Gram (frames^2) and covariance (coordinates^2) matrices.
  const bool gram = x.rows() <= x.cols();
  const Eigen::MatrixXd m = gram ? Eigen::MatrixXd(x * x.transpose()) : Eigen::MatrixXd(x.transpose() * x);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(m);
  const Eigen::Index last = m.rows() - 1;  // eigenvalues ascend
  p.axes.resize(x.cols(), 2);
  for (int c = 0; c < 2; ++c) {
    Eigen::VectorXd axis = gram ? Eigen::VectorXd(x.transpose() * solver.eigenvectors().col(last - c))
                                : Eigen::VectorXd(solver.eigenvectors().col(last - c));
    const double norm = axis.norm();
    p.axes.col(c) = norm > 0 ? Eigen::VectorXd(axis / norm) : axis;
  }
  const double trace = m.trace();
  p.fraction = trace > 0 ? (solver.eigenvalues()(last) + solver.eigenvalues()(last - 1)) / trace : kNaN;
  return p;
}

Eigen::Matrix2d psd_sqrt(const Eigen::Matrix2d& s) {
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> solver(s);
  const Eigen::Vector2d roots = solver.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return solver.eigenvectors() * roots.asDiagonal() * solver.eigenvectors().transpose();
}

// 2-Wasserstein distance between Gaussians fitted to the rows of p and q.
double gaussian_w2(const Eigen::MatrixX2d& p, const Eigen::MatrixX2d& q) {
  auto fit = [](const Eigen::MatrixX2d& x, Eigen::Vector2d& mean, Eigen::Matrix2d& cov) {
    mean = x.colwise().mean().transpose();
    const Eigen::MatrixX2d d = x.rowwise() - mean.transpose();
    cov = d.transpose() * d / double(x.rows());
  };
  Eigen::Vector2d m1, m2;
  Eigen::Matrix2d s1, s2;
  fit(p, m1, s1);
  fit(q, m2, s2);
  const Eigen::Matrix2d root2 = psd_sqrt(s2);
  const Eigen::Matrix2d cross = psd_sqrt(root2 * s1 * root2);
  const double w2 = (m1 - m2).squaredNorm() + (s1 + s2 - 2 * cross).trace();
  return std::sqrt(std::max(0.0, w2));
}

Eigen::MatrixXd centred_rows(const CaFrames& frames, const std::vector<float>& mean) {
  Eigen::MatrixXd x(frames.count, frames.width);
  for (std::size_t f = 0; f < frames.count; ++f)
    for (std::size_t k = 0; k < frames.width; ++k) x(f, k) = double(frames.frame(f)[k]) - mean[k];
  return x;
}

}  // namespace

EnsembleComparison compare_ensembles(const Conformers& generated, const Conformers& reference, int threads) {
  check_same_topology(generated.topology, reference.topology);
  if (generated.frame_count == 0 || reference.frame_count == 0)
    throw InputError("ensemble comparison needs at least one frame in each ensemble");
  EnsembleComparison out;
  std::vector<std::size_t> ca;
  for (std::size_t i = 0; i < reference.atom_count(); ++i)
    if (reference.topology.atom(i).name == "CA") {
      ca.push_back(i);
      const Atom& a = reference.topology.atom(i);
      out.residues.push_back((a.chain.empty() ? "" : a.chain + ":") + a.res_name + " " + std::to_string(a.res_seq) +
                             (a.ins_code == ' ' ? "" : std::string(1, a.ins_code)));
    }
  if (ca.empty()) throw InputError("ensemble comparison: the structures have no CA atoms");

  CaFrames ref = ca_frames(reference, ca), gen = ca_frames(generated, ca);
  const std::vector<float> mean = reference_mean(ref, threads);
  superpose_all(ref, mean, threads);
  superpose_all(gen, mean, threads);
  out.rmsf_reference = rmsf(ref);
  out.rmsf_generated = rmsf(gen);
  out.rmsf_pearson = pearson(out.rmsf_generated, out.rmsf_reference);

  out.pairwise_rmsd_generated = pairwise_rmsd(generated, nullptr, threads);
  out.pairwise_rmsd_reference = pairwise_rmsd(reference, nullptr, threads);
  out.pairwise_rmsd_cross = pairwise_rmsd(generated, &reference, threads);

  out.w2_pca = out.pca_variance_fraction = kNaN;
  if (ref.count >= 3 && all_finite(ref.xyz) && all_finite(gen.xyz)) {
    const Eigen::MatrixXd x = centred_rows(ref, mean);
    // Centre on the aligned frames' own mean (the iteration's target differs by < 1e-4 Å).
    const Eigen::RowVectorXd shift = x.colwise().mean();
    const Principal pca = principal_axes(x.rowwise() - shift);
    const Eigen::MatrixX2d p = (x.rowwise() - shift) * pca.axes;
    const Eigen::MatrixX2d q = (centred_rows(gen, mean).rowwise() - shift) * pca.axes;
    out.w2_pca = gaussian_w2(q, p);
    out.pca_variance_fraction = pca.fraction;
  }
  return out;
}

}  // namespace molearn
