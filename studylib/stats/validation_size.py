"""Minimum sample size for the external validation of a binary-outcome prediction model (Riley et al.).

Four criteria, each the number of participants for which one performance measure is estimated with a
``1 − alpha`` interval of a target width, at anticipated values of the validation population: the
observed/expected ratio (:func:`n_oe`), the calibration slope (:func:`n_calibration_slope`, from the
anticipated distribution of the linear predictor), the C-statistic (:func:`n_c_statistic`) and the
standardised net benefit at a threshold (:func:`n_net_benefit`). :func:`external_validation_size`
applies them together; the study needs the largest.

The linear predictor (LP, the logit of the predicted risk) is described by :class:`LinearPredictor`: a
normal distribution, the calibrated two-normal mixture implied by an anticipated prevalence and
C-statistic, or a Pearson type IV distribution given by its first four moments (the published worked
example). Expectations over it are computed by quadrature, not by simulating a million patients.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

__all__ = ["LinearPredictor", "SizeRequirement", "external_validation_size", "n_c_statistic",
           "n_calibration_slope", "n_net_benefit", "n_oe", "c_statistic_se", "oe_se_for_width"]


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    return float(special.ndtri(1 - alpha / 2))


@functools.lru_cache(maxsize=8)
def _hermite_nodes(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite (probabilists') nodes and weights, computed once per size: ``hermegauss`` solves an
    eigenproblem each call, which was most of the time of planning a study (read-only arrays: shared)."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w


def _check_probability(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1); got {value}")


def _check_width(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0; got {value}")


@dataclass(frozen=True, eq=False)
class LinearPredictor:
    """Anticipated distribution of the linear predictor (logit of predicted risk) in the validation population.

    Held as quadrature nodes and weights (weights sum to 1), so that ``E[f(LP)]`` is ``sum(w f(x))``.
    Build it with :meth:`normal`, :meth:`from_c_statistic` or :meth:`pearson_iv`.
    """

    nodes: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    description: str

    def expect(self, values: np.ndarray) -> float:
        """``E[values(LP)]`` for values evaluated at :attr:`nodes`."""
        return float(np.dot(self.weights, values))

    @property
    def risk(self) -> np.ndarray:
        """Predicted risk ``expit(LP)`` at the nodes."""
        return special.expit(self.nodes)

    @property
    def prevalence(self) -> float:
        """Anticipated outcome proportion of a calibrated model, ``E[expit(LP)]``."""
        return self.expect(self.risk)

    def moments(self) -> tuple[float, float, float, float]:
        """Mean, variance, skewness and kurtosis (not excess) of the distribution."""
        mean = self.expect(self.nodes)
        centred = self.nodes - mean
        var = self.expect(centred ** 2)
        return mean, var, self.expect(centred ** 3) / var ** 1.5, self.expect(centred ** 4) / var ** 2

    @classmethod
    def normal(cls, mean: float, sd: float, *, nodes: int = 161) -> "LinearPredictor":
        """LP ~ Normal(mean, sd²) (Gauss–Hermite quadrature)."""
        if not sd > 0:
            raise ValueError(f"sd of the linear predictor must be > 0; got {sd}")
        x, w = _hermite_nodes(nodes)
        return cls(mean + sd * x, w / w.sum(), f"normal(mean {mean:g}, sd {sd:g})")

    @classmethod
    def from_c_statistic(cls, prevalence: float, c_statistic: float, *, nodes: int = 161) -> "LinearPredictor":
        """The calibrated LP of a model with anticipated outcome proportion and C-statistic.

        Non-events have LP ~ N(μ, σ²), events LP ~ N(μ + σ², σ²), mixed in proportions
        ``1 − prevalence`` and ``prevalence``, with ``σ² = 2 Φ⁻¹(C)²`` (so that the binormal C-statistic is
        ``Φ(σ²/(σ√2)) = C``) and ``μ = logit(prevalence) − σ²/2``. With these values
        ``P(Y = 1 | LP) = expit(LP)`` exactly: the model is calibrated, the outcome proportion is
        ``prevalence`` and the C-statistic is ``C``. Riley et al. (2021, section 4.6) and the pmvalsampsize
        ``lpcstat`` option reach the same distribution by searching for μ by simulation.
        """
        _check_probability("prevalence", prevalence)
        if not 0.5 < c_statistic < 1:
            raise ValueError(f"the anticipated C-statistic must be in (0.5, 1); got {c_statistic}")
        var = 2 * float(special.ndtri(c_statistic)) ** 2
        sd = math.sqrt(var)
        mu = float(special.logit(prevalence)) - var / 2
        x, w = _hermite_nodes(nodes)
        w = w / w.sum()
        return cls(np.concatenate([mu + sd * x, mu + var + sd * x]),
                   np.concatenate([(1 - prevalence) * w, prevalence * w]),
                   f"calibrated two-normal mixture (prevalence {prevalence:g}, C {c_statistic:g})")

    @classmethod
    def pearson_iv(cls, mean: float, variance: float, skewness: float, kurtosis: float, *,
                   points: int = 200_001, span: float = 40.0) -> "LinearPredictor":
        """LP with a Pearson type IV distribution of the given moments (kurtosis not excess).

        The density ``k [1 + ((x − λ)/a)²]^(−m) exp(−ν arctan((x − λ)/a))`` with ``m``, ``ν``, ``a`` and ``λ``
        from the moments (Heinrich 2004), integrated on a grid of ``points`` over ``mean ± span·sd``.
        Riley et al. (2021) describe the LP of their worked example this way (PearsonDS in R).

        References
        ----------
        .. [1] Heinrich J. A guide to the Pearson type IV distribution. CDF/MEMO/STATISTICS/PUBLIC/6820,
           University of Pennsylvania; 2004.
        """
        beta1, beta2 = skewness ** 2, kurtosis
        denominator = 2 * beta2 - 3 * beta1 - 6
        kappa = (beta1 * (beta2 + 3) ** 2 / (4 * (4 * beta2 - 3 * beta1) * denominator)
                 if denominator != 0 else math.inf)
        if not (denominator > 0 and 0 < kappa < 1):
            raise ValueError(f"skewness {skewness:g} and kurtosis {kurtosis:g} are not in the Pearson type IV "
                             "region (0 < kappa < 1)")
        r = 6 * (beta2 - beta1 - 1) / denominator
        m = (r + 2) / 2
        root = math.sqrt(16 * (r - 1) - beta1 * (r - 2) ** 2)
        sqrt_b1 = math.copysign(math.sqrt(beta1), skewness)
        nu = -r * (r - 2) * sqrt_b1 / root
        a = math.sqrt(variance) * root / 4
        lam = mean - (r - 2) * sqrt_b1 * math.sqrt(variance) / 4
        sd = math.sqrt(variance)
        x = np.linspace(mean - span * sd, mean + span * sd, points)
        t = (x - lam) / a
        log_density = -m * np.log1p(t * t) - nu * np.arctan(t)
        w = np.exp(log_density - log_density.max())
        w[[0, -1]] *= 0.5                                   # trapezoid rule on an even grid
        return cls(x, w / w.sum(), f"Pearson IV (mean {mean:g}, variance {variance:g}, skewness {skewness:g}, "
                                   f"kurtosis {kurtosis:g})")


@dataclass(frozen=True)
class SizeRequirement:
    """The participants (and expected events) one criterion needs.

    Attributes
    ----------
    criterion : str
        What is estimated (``"oe_ratio"``, ``"calibration_slope"``, ``"c_statistic"``, ``"net_benefit"``).
    participants : int
        Minimum number of participants, rounded up.
    events : int
        Expected events among them, ``participants × prevalence`` rounded to the nearest integer.
    se : float
        The standard error the target width implies.
    target : str
        The target, in words, without its confidence level (e.g. ``"CI of the C-statistic of width 0.1"``):
        the caller says the level (:func:`studylib.formatting.confidence_level`).
    """

    criterion: str
    participants: int
    events: int
    se: float
    target: str

    def to_dict(self) -> dict:
        return {"criterion": self.criterion, "participants": self.participants, "events": self.events,
                "se": self.se, "target": self.target}


def _requirement(criterion: str, n: float, prevalence: float, se: float, target: str) -> SizeRequirement:
    participants = int(math.ceil(n - 1e-9))
    return SizeRequirement(criterion, participants, int(math.floor(participants * prevalence + 0.5)), se, target)


def oe_se_for_width(width: float, *, oe: float = 1.0, alpha: float = 0.05) -> float:
    """SE of ln(O/E) whose interval ``exp(ln(oe) ± z·SE)`` has total width ``width`` on the O/E scale.

    The width is ``oe (e^{zSE} − e^{−zSE}) = 2 oe sinh(z SE)``, so ``SE = asinh(width / (2 oe)) / z``.
    """
    _check_width("width", width)
    if not oe > 0:
        raise ValueError(f"anticipated O/E must be > 0; got {oe}")
    return math.asinh(width / (2 * oe)) / _z(alpha)


def n_oe(prevalence: float, width: float, *, oe: float = 1.0, alpha: float = 0.05) -> SizeRequirement:
    """Participants for a ``1 − alpha`` interval of O/E of total width ``width`` (criterion 1).

    ``SE(ln O/E) ≈ sqrt((1 − φ) / (n φ))`` (Riley et al. 2021, eq. 3), so ``n = (1 − φ) / (φ SE²)`` with the SE
    of :func:`oe_se_for_width`.

    References
    ----------
    .. [1] Riley RD, Debray TPA, Collins GS, et al. Minimum sample size for external validation of a clinical
       prediction model with a binary outcome. Stat Med. 2021;40(19):4230-4251. doi:10.1002/sim.9025

    Examples
    --------
    >>> n_oe(0.1, 0.2).participants   # Riley et al. 2021, section 3.1: about 3,460
    3457
    """
    _check_probability("prevalence", prevalence)
    se = oe_se_for_width(width, oe=oe, alpha=alpha)
    return _requirement("oe_ratio", (1 - prevalence) / (prevalence * se * se), prevalence, se,
                        f"CI of O/E of width {width:g} (O/E {oe:g})")


def n_calibration_slope(lp: LinearPredictor, width: float, *, alpha: float = 0.05) -> SizeRequirement:
    """Participants for a ``1 − alpha`` interval of the calibration slope of total width ``width`` (criterion 2).

    The variance of the slope of the calibration model ``logit P(Y=1) = α + β LP`` at ``α = 0, β = 1`` (a
    calibrated model) is ``I₀₀ / (n (I₀₀ I₁₁ − I₀₁²))`` with ``I_jk = E[LP^(j+k) p (1 − p)]``, ``p = expit(LP)``
    (Riley et al. 2021, eq. 5); ``n = I₀₀ / (SE² (I₀₀ I₁₁ − I₀₁²))`` with ``SE = width / (2 z)``.

    References
    ----------
    .. [1] Riley RD, Debray TPA, Collins GS, et al. Minimum sample size for external validation of a clinical
       prediction model with a binary outcome. Stat Med. 2021;40(19):4230-4251. doi:10.1002/sim.9025
    """
    _check_width("width", width)
    p = lp.risk
    v = p * (1 - p)
    i00, i01, i11 = lp.expect(v), lp.expect(v * lp.nodes), lp.expect(v * lp.nodes ** 2)
    se = width / (2 * _z(alpha))
    n = i00 / (se * se * (i00 * i11 - i01 * i01))
    return _requirement("calibration_slope", n, lp.prevalence, se,
                        f"CI of the calibration slope of width {width:g}; LP {lp.description}")


def c_statistic_se(c_statistic: float, prevalence: float, n: float) -> float:
    """Anticipated SE of the C-statistic with ``n`` participants (Newcombe's approximation).

    ``SE² = C(1 − C)[1 + (n/2 − 1)(1 − C)/(2 − C) + (n/2 − 1) C/(1 + C)] / (n² φ(1 − φ))``.

    References
    ----------
    .. [1] Newcombe RG. Confidence intervals for an effect size measure based on the Mann-Whitney statistic.
       Part 2: asymptotic methods and evaluation. Stat Med. 2006;25(4):559-573. doi:10.1002/sim.2324
    """
    c = c_statistic
    half = n / 2 - 1
    return math.sqrt(c * (1 - c) * (1 + half * (1 - c) / (2 - c) + half * c / (1 + c))
                     / (n * n * prevalence * (1 - prevalence)))


def n_c_statistic(c_statistic: float, prevalence: float, width: float, *, alpha: float = 0.05) -> SizeRequirement:
    """Participants for a ``1 − alpha`` interval of the C-statistic of total width ``width`` (criterion 3).

    The smallest ``n`` with ``2 z SE(n) ≤ width``, SE of :func:`c_statistic_se` (Riley et al. 2021, eq. 7).

    References
    ----------
    .. [1] Riley RD, Debray TPA, Collins GS, et al. Minimum sample size for external validation of a clinical
       prediction model with a binary outcome. Stat Med. 2021;40(19):4230-4251. doi:10.1002/sim.9025
    """
    _check_probability("prevalence", prevalence)
    _check_width("width", width)
    if not 0.5 <= c_statistic < 1:
        raise ValueError(f"the anticipated C-statistic must be in [0.5, 1); got {c_statistic}")
    se = width / (2 * _z(alpha))
    low, high = 2, 4
    while c_statistic_se(c_statistic, prevalence, high) > se:
        low, high = high, high * 2
    while high - low > 1:                                        # SE decreases in n
        mid = (low + high) // 2
        low, high = (mid, high) if c_statistic_se(c_statistic, prevalence, mid) > se else (low, mid)
    return _requirement("c_statistic", high, prevalence, se,
                        f"CI of the C-statistic of width {width:g} (C {c_statistic:g})")


def n_net_benefit(sensitivity: float, specificity: float, prevalence: float, threshold: float, width: float, *,
                  alpha: float = 0.05) -> SizeRequirement:
    """Participants for a ``1 − alpha`` interval of the standardised net benefit of width ``width`` (criterion 4).

    ``n SE² = sens(1 − sens)/φ + w² spec(1 − spec)/(1 − φ) + w² (1 − spec)²/(φ(1 − φ))`` with
    ``w = (1 − φ)/φ · t/(1 − t)`` at threshold ``t`` (Riley et al. 2021, eq. 9), ``SE = width / (2 z)``.

    References
    ----------
    .. [1] Riley RD, Debray TPA, Collins GS, et al. Minimum sample size for external validation of a clinical
       prediction model with a binary outcome. Stat Med. 2021;40(19):4230-4251. doi:10.1002/sim.9025
    """
    for name, value in (("prevalence", prevalence), ("threshold", threshold)):
        _check_probability(name, value)
    for name, value in (("sensitivity", sensitivity), ("specificity", specificity)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1]; got {value}")
    _check_width("width", width)
    phi = prevalence
    w = (1 - phi) / phi * threshold / (1 - threshold)
    unit = (sensitivity * (1 - sensitivity) / phi + w * w * specificity * (1 - specificity) / (1 - phi)
            + w * w * (1 - specificity) ** 2 / (phi * (1 - phi)))
    se = width / (2 * _z(alpha))
    return _requirement("net_benefit", unit / (se * se), phi, se,
                        f"CI of the standardised net benefit at threshold {threshold:g} of width {width:g}")


def classification_at(lp: LinearPredictor, threshold: float) -> tuple[float, float]:
    """Anticipated sensitivity and specificity of a calibrated model at ``threshold`` (positive iff risk >= it)."""
    p = lp.risk
    positive = p >= threshold
    prevalence = lp.prevalence
    return (lp.expect(p * positive) / prevalence, lp.expect((1 - p) * ~positive) / (1 - prevalence))


def external_validation_size(lp: LinearPredictor, *, c_statistic: float, oe_width: float = 0.2,
                             slope_width: float = 0.2, c_width: float = 0.1, net_benefit_threshold: float | None = None,
                             net_benefit_width: float = 0.2, oe: float = 1.0,
                             alpha: float = 0.05) -> tuple[SizeRequirement, ...]:
    """The four criteria of Riley et al. (2021) at the prevalence of ``lp``; the study needs the largest.

    Net benefit is included when ``net_benefit_threshold`` is given, with the sensitivity and specificity a
    calibrated model with this LP distribution has at that threshold (:func:`classification_at`).
    The default widths are those of the paper (O/E 0.2, slope 0.2, C 0.1, standardised net benefit 0.2).

    References
    ----------
    .. [1] Riley RD, Debray TPA, Collins GS, et al. Minimum sample size for external validation of a clinical
       prediction model with a binary outcome. Stat Med. 2021;40(19):4230-4251. doi:10.1002/sim.9025
    .. [2] Riley RD, Snell KIE, Archer L, et al. Evaluation of clinical prediction models (part 3): calculating
       the sample size required for an external validation study. BMJ. 2024;384:e074821.
       doi:10.1136/bmj-2023-074821
    """
    prevalence = lp.prevalence
    out = [n_oe(prevalence, oe_width, oe=oe, alpha=alpha), n_calibration_slope(lp, slope_width, alpha=alpha),
           n_c_statistic(c_statistic, prevalence, c_width, alpha=alpha)]
    if net_benefit_threshold is not None:
        sens, spec = classification_at(lp, net_benefit_threshold)
        out.append(n_net_benefit(sens, spec, prevalence, net_benefit_threshold, net_benefit_width, alpha=alpha))
    return tuple(out)
