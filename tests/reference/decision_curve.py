"""Hand-worked net-benefit example (Vickers & Elkin 2006, Med Decis Making 26:565-574,
doi:10.1177/0272989X06295361: net benefit = TP/n - FP/n * t/(1-t)). Tolerance 1e-12 absolute.

Ten patients, four with the event:
  y    = 1    1    1    1    0    0    0    0    0    0
  prob = 0.9  0.8  0.7  0.1  0.6  0.1  0.1  0.1  0.1  0.1
Treat iff prob >= t.
  t = 0.1: all treated, TP 4, FP 6: 0.4 - 0.6 * (1/9)  = 0.3333333333 ; treat-all the same
  t = 0.2: TP 3, FP 1: 0.3 - 0.1 * 0.25                = 0.275        ; all: 0.4 - 0.6 * 0.25 = 0.25
  t = 0.5: TP 3, FP 1: 0.3 - 0.1 * 1                   = 0.2          ; all: 0.4 - 0.6 = -0.2
  t = 0.6: TP 3, FP 1 (0.6 >= 0.6 is treated): 0.3 - 0.1 * 1.5 = 0.15 ; all: 0.4 - 0.9 = -0.5
  t = 0.75: TP 2, FP 0: 0.2                             = 0.2          ; all: 0.4 - 1.8 = -1.4
  t = 0.95: nobody treated: 0                                          ; all: 0.4 - 11.4 = -11.0
"""

TOLERANCE = 1e-12

Y = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
PROB = [0.9, 0.8, 0.7, 0.1, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1]
THRESHOLDS = [0.1, 0.2, 0.5, 0.6, 0.75, 0.95]
NET_BENEFIT_MODEL = [0.4 - 0.6 / 9, 0.275, 0.2, 0.15, 0.2, 0.0]
NET_BENEFIT_ALL = [0.4 - 0.6 / 9, 0.25, -0.2, -0.5, -1.4, -11.0]
