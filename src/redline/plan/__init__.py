"""The Plan: what to load, how hard, for how long, and what passes.

Every input redline accepts is validated here, once, at the edge: a TOML plan file
(:func:`load_plan`), the CLI's flags (:func:`plan_from_flags`), or a mapping
(:func:`plan_from_mapping`). Bad input raises :class:`~redline.errors.ConfigError`
with one line that names the field, the bad value and what is allowed::

    executor.duration: '5s' is out of range; allowed 10s..24h

Targets outside loopback and the plan's ``allowed_hosts`` raise
:class:`~redline.errors.ScopeError` from :meth:`Plan.validate_scope`.
"""

from redline.plan._bounds import (
    DURATION_S_RANGE,
    ITERATIONS_RANGE,
    LOGNORMAL_SIGMA_RANGE,
    PACING_S_RANGE,
    RAMP_S_RANGE,
    RATE_PER_S_RANGE,
    RATE_TARGET_PER_S_RANGE,
    STAGE_DURATION_S_RANGE,
    STAGES_TOTAL_S_RANGE,
    STATUS_RANGE,
    THINK_MEDIAN_S_RANGE,
    THINK_TIME_S_RANGE,
    THRESHOLD_WINDOW_S_RANGE,
    TIMEOUT_S_RANGE,
    VU_TARGET_RANGE,
    VUS_RANGE,
    WEIGHT_RANGE,
    WORKERS_RANGE,
    Range,
    Unit,
)
from redline.plan._data import (
    GENERATOR_INT_RANGE,
    GENERATOR_LENGTH_RANGE,
    RUN_ID_VARIABLE,
    FeederConfig,
    FeederMode,
    GeneratorConfig,
    GeneratorKind,
    OnExhausted,
)
from redline.plan._diurnal import DiurnalCurve
from redline.plan._dsn import Dsn, parse_dsn, redact_passwords
from redline.plan._executors import (
    DIURNAL_PERIOD_S_RANGE,
    EXECUTOR_CONFIGS,
    Arrivals,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    DiurnalConfig,
    ExecutorConfig,
    LoadModel,
    OnBusy,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    RateStage,
    ShapeConfig,
    SharedIterationsConfig,
    Stage,
    default_max_vus,
    default_pre_allocated_vus,
)
from redline.plan._flags import plan_from_flags
from redline.plan._plan import DEFAULT_SCENARIO, Plan, ScenarioRun
from redline.plan._python import load_python_scenario, scenario_iteration
from redline.plan._ramp import EXPONENTIAL_FLOOR, Ramp, RampCurve
from redline.plan._request import RequestSpec
from redline.plan._rows import DataFormat, DataRows, read_rows
from redline.plan._scenarios import ScenarioConfig
from redline.plan._scope import (
    Environment,
    check_scope,
    is_loopback,
    parse_environment,
    parse_url_target,
)
from redline.plan._shape import load_shape
from redline.plan._test_types import (
    SHAPES,
    JudgedWindow,
    Phase,
    PhaseKind,
    Shape,
    TestConfig,
    TestType,
)
from redline.plan._think import (
    THINK_TIME_MODELS,
    ConstantThinkTimeConfig,
    ExponentialThinkTimeConfig,
    LognormalThinkTimeConfig,
    NormalThinkTimeConfig,
    ThinkTimeConfig,
    UniformThinkTimeConfig,
)
from redline.plan._threshold import Comparison, Metric, Threshold, parse_threshold
from redline.plan._toml import load_plan
from redline.plan._units import format_duration, format_rate, parse_duration, parse_rate
from redline.plan._validation import plan_from_mapping, validate
from redline.plan._yaml import load_yaml_plan

__all__ = [
    "Dsn",
    "DEFAULT_SCENARIO",
    "ScenarioConfig",
    "ScenarioRun",
    "GENERATOR_INT_RANGE",
    "GENERATOR_LENGTH_RANGE",
    "RUN_ID_VARIABLE",
    "DataFormat",
    "DataRows",
    "FeederConfig",
    "FeederMode",
    "GeneratorConfig",
    "GeneratorKind",
    "OnExhausted",
    "read_rows",
    "SHAPES",
    "JudgedWindow",
    "Phase",
    "PhaseKind",
    "Shape",
    "TestConfig",
    "TestType",
    "DIURNAL_PERIOD_S_RANGE",
    "DURATION_S_RANGE",
    "EXECUTOR_CONFIGS",
    "EXPONENTIAL_FLOOR",
    "ITERATIONS_RANGE",
    "LOGNORMAL_SIGMA_RANGE",
    "PACING_S_RANGE",
    "RAMP_S_RANGE",
    "RATE_PER_S_RANGE",
    "RATE_TARGET_PER_S_RANGE",
    "STAGES_TOTAL_S_RANGE",
    "STAGE_DURATION_S_RANGE",
    "STATUS_RANGE",
    "THINK_MEDIAN_S_RANGE",
    "THINK_TIME_MODELS",
    "THINK_TIME_S_RANGE",
    "THRESHOLD_WINDOW_S_RANGE",
    "TIMEOUT_S_RANGE",
    "VUS_RANGE",
    "VU_TARGET_RANGE",
    "WEIGHT_RANGE",
    "WORKERS_RANGE",
    "Arrivals",
    "Comparison",
    "ConstantArrivalRateConfig",
    "ConstantThinkTimeConfig",
    "ConstantVusConfig",
    "DiurnalConfig",
    "DiurnalCurve",
    "Environment",
    "ExecutorConfig",
    "ExponentialThinkTimeConfig",
    "LoadModel",
    "LognormalThinkTimeConfig",
    "Metric",
    "NormalThinkTimeConfig",
    "OnBusy",
    "PerVuIterationsConfig",
    "Plan",
    "RampingArrivalRateConfig",
    "Ramp",
    "RampCurve",
    "RampingVusConfig",
    "Range",
    "RateStage",
    "RequestSpec",
    "ShapeConfig",
    "SharedIterationsConfig",
    "Stage",
    "ThinkTimeConfig",
    "Threshold",
    "UniformThinkTimeConfig",
    "Unit",
    "check_scope",
    "default_max_vus",
    "default_pre_allocated_vus",
    "format_duration",
    "format_rate",
    "is_loopback",
    "load_plan",
    "load_yaml_plan",
    "load_python_scenario",
    "load_shape",
    "parse_dsn",
    "redact_passwords",
    "parse_duration",
    "parse_environment",
    "parse_rate",
    "parse_threshold",
    "parse_url_target",
    "plan_from_flags",
    "plan_from_mapping",
    "scenario_iteration",
    "validate",
]
