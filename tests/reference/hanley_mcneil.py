"""Published values of Hanley & McNeil (1982), the worked example of the standard error of an AUROC.

Source: Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
characteristic (ROC) curve. Radiology. 1982;143(1):29-36. doi:10.1148/radiology.143.1.7063747.

The example: one radiologist's ratings of 109 CT images (1 definitely normal ... 5 definitely
abnormal), 58 normal and 51 abnormal (Table I). The paper gives the area W = 0.8932 and its
standard error SE(W) = 0.0320 from

    SE(W)^2 = [W(1-W) + (nA-1)(Q1-W^2) + (nN-1)(Q2-W^2)] / (nA nN)

with Q1 (two abnormal images both rated above one normal one) and Q2 (one abnormal above two normal
ones) estimated from the ratings. Counting ties as in the Wilcoxon statistic (a tied pair 1/2; two
images tied with the third 1/3, the chance that the single one ranks last when the ties are broken at
random) reproduces the printed value: Q1 = 0.8182, Q2 = 0.8313, SE(W) = 0.03199
(tests/stats/test_control.py recomputes them from the counts below).

The paper's closed-form approximations Q1 = A/(2-A) and Q2 = 2A^2/(1+A) (negative-exponential
ratings), which studylib.stats.control.hanley_mcneil_se uses because a control limit has no data of
the future window yet, give 0.0325 for this example.
"""

#: ratings 1..5 of the 58 normal and the 51 abnormal images
NORMAL = (33, 6, 6, 11, 2)
ABNORMAL = (3, 2, 2, 11, 33)
#: the published area and standard error, as printed (4 decimals)
W = 0.8932
SE_W = 0.0320
#: half a unit in the last printed decimal
PRINTED_TOLERANCE = 5e-5
