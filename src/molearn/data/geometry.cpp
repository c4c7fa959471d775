#include "molearn/data/geometry.hpp"

#include <Eigen/Dense>
#include <cmath>

#include "molearn/core/error.hpp"

namespace molearn {

Vec3 centroid(std::span<const float> xyz) {
  Vec3 sum{0, 0, 0};
  const std::size_t n = xyz.size() / 3;
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) sum[k] += xyz[3 * i + k];
  for (double& s : sum) s /= static_cast<double>(n ? n : 1);
  return sum;
}

void centre(std::span<float> xyz) {
  const Vec3 c = centroid(xyz);
  for (std::size_t i = 0; i < xyz.size(); ++i) xyz[i] = static_cast<float>(xyz[i] - c[i % 3]);
}

double rmsd(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || a.empty()) throw InputError("rmsd: structures differ in size or are empty");
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(a.size() / 3));
}

double superpose(std::span<float> mobile, std::span<const float> reference) {
  if (mobile.size() != reference.size() || mobile.empty())
    throw InputError("superpose: structures differ in size or are empty");
  const std::size_t n = mobile.size() / 3;
  const Vec3 cm = centroid(mobile);
  const Vec3 cr = centroid(reference);
  // Cross-covariance of the centred coordinates.
  Eigen::Matrix3d h = Eigen::Matrix3d::Zero();
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d p(mobile[3 * i] - cm[0], mobile[3 * i + 1] - cm[1], mobile[3 * i + 2] - cm[2]);
    const Eigen::Vector3d q(reference[3 * i] - cr[0], reference[3 * i + 1] - cr[1], reference[3 * i + 2] - cr[2]);
    h += p * q.transpose();
  }
  Eigen::JacobiSVD<Eigen::Matrix3d> svd(h, Eigen::ComputeFullU | Eigen::ComputeFullV);
  // Flip the smallest singular direction if needed so that R is a rotation,
  // not a reflection.
  Eigen::Matrix3d d = Eigen::Matrix3d::Identity();
  d(2, 2) = (svd.matrixV() * svd.matrixU().transpose()).determinant() < 0 ? -1.0 : 1.0;
  const Eigen::Matrix3d r = svd.matrixV() * d * svd.matrixU().transpose();
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d p(mobile[3 * i] - cm[0], mobile[3 * i + 1] - cm[1], mobile[3 * i + 2] - cm[2]);
    const Eigen::Vector3d moved = r * p;
    for (int k = 0; k < 3; ++k) mobile[3 * i + k] = static_cast<float>(moved[k] + cr[k]);
  }
  return rmsd(mobile, reference);
}

}  // namespace molearn
