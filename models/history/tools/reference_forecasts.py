"""Reference numbers for headroom's forecasting tests, from statsmodels on AirPassengers.

Run once by hand (python3 -m pip install statsmodels; python3 reference_forecasts.py) and the
output pasted into tests/forecast_reference.rs; no Python runs at test time.
"""
import json

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.forecasting.theta import ThetaModel
import pandas as pd

AIR = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
       115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
       145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
       171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,
       196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,
       204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
       242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,
       284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,
       315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
       340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,
       360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
       417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432]

y = np.array(AIR, dtype=float)
out = {}

# The recursions with fixed constants and a known start: headroom must match to rounding.
level0, trend0 = 118.0, 1.5
season0 = [0.9, 0.92, 1.03, 1.0, 0.97, 1.08, 1.18, 1.18, 1.06, 0.93, 0.81, 0.9]
m = ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal="mul", seasonal_periods=12,
                         initialization_method="known", initial_level=level0, initial_trend=trend0,
                         initial_seasonal=season0)
r = m.fit(smoothing_level=0.3, smoothing_trend=0.05, smoothing_seasonal=0.2, damping_trend=0.95,
          optimized=False)
out["fixed"] = {"fitted": list(r.fittedvalues), "forecast": list(r.forecast(24))}

# Fitted by statsmodels: headroom's own fit should forecast close to it.
r = ExponentialSmoothing(y[:132], trend="add", damped_trend=True, seasonal="mul",
                         seasonal_periods=12).fit()
out["ets_fitted_forecast_12"] = list(r.forecast(12))

# Theta on the seasonally adjusted series (multiplicative classical decomposition).
s = pd.Series(y[:132], index=pd.period_range("1949-01", periods=132, freq="M"))
t = ThetaModel(s, period=12, deseasonalize=True, method="multiplicative").fit()
out["theta_alpha"] = float(t.params["alpha"])
out["theta_b0"] = float(t.params["b0"])
out["theta_forecast_12"] = list(t.forecast(12))
print(json.dumps(out))
