"""Reference data of the demo platform: models, providers, regions and grid intensities."""

from __future__ import annotations

from dataclasses import dataclass

from lowdash_desktop.eco.methodology import Params


@dataclass(frozen=True, slots=True)
class Provider:
    """An inference provider with its data-centre PUE and regions (first one is the default)."""

    name: str
    pue: float
    regions: tuple[str, ...]
    price_factor: float
    ttft_ms: int


@dataclass(frozen=True, slots=True)
class Model:
    """A model served through the router."""

    id: str
    name: str
    architecture: str
    params_total: Params
    params_active: Params
    params_status: str
    price_prompt: str  # EUR per million tokens
    price_completion: str
    providers: tuple[str, ...]
    weight: float  # relative popularity in the synthetic traffic
    reasoning: bool = False
    ms_per_token: float = 20.0


# Electricity grid carbon intensity per region (gCO2e/kWh, yearly averages, rounded).
GRID_INTENSITY: dict[str, float] = {
    "fr-par": 52.0,
    "fr-gra": 52.0,
    "nl-ams": 328.0,
    "de-fra": 381.0,
    "pl-waw": 662.0,
    "us-east-1": 379.0,
    "eu-west-1": 290.0,
    "eu-central-1": 381.0,
    "eu-north-1": 41.0,
    "europe-west4": 328.0,
    "europe-west1": 165.0,
    "us-central1": 423.0,
    "westeurope": 328.0,
    "swedencentral": 41.0,
    "eastus": 379.0,
    "us-east": 379.0,
    "us-west": 136.0,
}

PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("scaleway", 1.25, ("fr-par", "nl-ams", "pl-waw"), 0.95, 180),
        Provider("ovh", 1.28, ("fr-gra", "de-fra"), 0.9, 220),
        Provider("aws", 1.15, ("eu-west-1", "us-east-1", "eu-central-1", "eu-north-1"), 1.1, 260),
        Provider("gcp", 1.10, ("europe-west4", "europe-west1", "us-central1"), 1.05, 240),
        Provider("azure", 1.18, ("swedencentral", "westeurope", "eastus"), 1.15, 300),
        Provider("together", 1.30, ("us-east",), 0.85, 200),
        Provider("fireworks", 1.30, ("us-west",), 0.88, 150),
    )
}

def _m(
    id_: str,
    name: str,
    total: Params,
    active: Params | None,
    status: str,
    price: tuple[str, str],
    providers: tuple[str, ...],
    weight: float,
    reasoning: bool = False,
) -> Model:
    """Shorthand constructor keeping the table below readable."""
    arch = "dense" if active is None else "moe"
    act = total if active is None else active
    size = act[1] if isinstance(act, tuple) else act
    ms_per_token = 8.0 + 0.35 * size**0.8
    return Model(
        id_,
        name,
        arch,
        total,
        act,
        status,
        price[0],
        price[1],
        providers,
        weight,
        reasoning,
        round(ms_per_token, 2),
    )


# fmt: off
MODELS: tuple[Model, ...] = (
    _m("mistral/mistral-small-3", "Mistral Small 3", 24, None, "verified",
       ("0.09", "0.27"), ("scaleway", "ovh", "aws", "together"), 14),
    _m("mistral/mistral-medium-3", "Mistral Medium 3", (70.0, 180.0), None, "estimated",
       ("0.36", "1.80"), ("scaleway", "azure", "gcp"), 3),
    _m("mistral/mistral-large-2", "Mistral Large 2", 123, None, "verified",
       ("1.80", "5.40"), ("scaleway", "azure", "aws"), 2),
    _m("mistral/ministral-8b", "Ministral 8B", 8, None, "verified",
       ("0.09", "0.09"), ("scaleway", "ovh"), 9),
    _m("mistral/ministral-3b", "Ministral 3B", 3, None, "verified",
       ("0.04", "0.04"), ("scaleway", "ovh", "aws"), 7),
    _m("mistral/codestral-2", "Codestral 2", 22, None, "verified",
       ("0.27", "0.81"), ("scaleway", "azure", "fireworks"), 4),
    _m("mistral/mixtral-8x7b", "Mixtral 8x7B", 46.7, 12.9, "verified",
       ("0.45", "0.45"), ("ovh", "together", "fireworks"), 2),
    _m("mistral/mixtral-8x22b", "Mixtral 8x22B", 141, 39, "verified",
       ("1.08", "1.08"), ("ovh", "together"), 1),
    _m("mistral/pixtral-12b", "Pixtral 12B", 12.4, None, "verified",
       ("0.13", "0.13"), ("scaleway", "aws"), 2),
    _m("mistral/magistral-medium", "Magistral Medium", (70.0, 180.0), None, "estimated",
       ("1.80", "4.50"), ("scaleway", "azure"), 1, reasoning=True),
    _m("meta-llama/llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", 8.03, None, "verified",
       ("0.05", "0.07"), ("together", "fireworks", "aws", "ovh", "scaleway", "gcp"), 12),
    _m("meta-llama/llama-3.1-70b-instruct", "Llama 3.1 70B Instruct", 70.6, None, "verified",
       ("0.48", "0.72"), ("together", "fireworks", "aws", "ovh", "scaleway"), 4),
    _m("meta-llama/llama-3.1-405b-instruct", "Llama 3.1 405B Instruct", 405, None, "verified",
       ("2.70", "2.70"), ("together", "fireworks", "aws"), 1),
    _m("meta-llama/llama-3.3-70b-instruct", "Llama 3.3 70B Instruct", 70.6, None, "verified",
       ("0.36", "0.54"), ("scaleway", "ovh", "together", "fireworks", "gcp"), 6),
    _m("meta-llama/llama-3.2-3b-instruct", "Llama 3.2 3B Instruct", 3.21, None, "verified",
       ("0.03", "0.05"), ("together", "fireworks", "scaleway"), 5),
    _m("meta-llama/llama-3.2-1b-instruct", "Llama 3.2 1B Instruct", 1.24, None, "verified",
       ("0.01", "0.02"), ("together", "fireworks"), 3),
    _m("meta-llama/llama-4-scout", "Llama 4 Scout", 109, 17, "verified",
       ("0.16", "0.54"), ("together", "fireworks", "aws", "gcp"), 3),
    _m("meta-llama/llama-4-maverick", "Llama 4 Maverick", 400, 17, "verified",
       ("0.25", "0.80"), ("together", "fireworks", "aws", "azure"), 2),
    _m("google/gemma-3-27b", "Gemma 3 27B", 27.4, None, "verified",
       ("0.09", "0.16"), ("gcp", "scaleway", "together"), 3),
    _m("google/gemma-3-12b", "Gemma 3 12B", 12.2, None, "verified",
       ("0.05", "0.09"), ("gcp", "ovh"), 2),
    _m("google/gemma-3-4b", "Gemma 3 4B", 4.3, None, "verified",
       ("0.02", "0.04"), ("gcp", "scaleway"), 2),
    _m("google/gemini-2.0-flash", "Gemini 2.0 Flash", (100.0, 600.0), (10.0, 40.0),
       "estimated", ("0.09", "0.36"), ("gcp",), 4),
    _m("google/gemini-2.5-pro", "Gemini 2.5 Pro", (300.0, 2000.0), (30.0, 200.0),
       "estimated", ("1.15", "9.20"), ("gcp",), 1, reasoning=True),
    _m("openai/gpt-oss-120b", "gpt-oss-120b", 117, 5.1, "verified",
       ("0.14", "0.55"), ("together", "fireworks", "azure", "aws"), 4, reasoning=True),
    _m("openai/gpt-oss-20b", "gpt-oss-20b", 21, 3.6, "verified",
       ("0.05", "0.20"), ("together", "fireworks", "azure"), 3, reasoning=True),
    _m("openai/gpt-4o-mini", "GPT-4o mini", (20.0, 80.0), (8.0, 20.0), "estimated",
       ("0.14", "0.55"), ("azure",), 6),
    _m("openai/gpt-4o", "GPT-4o", (200.0, 1760.0), (60.0, 220.0), "estimated",
       ("2.30", "9.20"), ("azure",), 1),
    _m("anthropic/claude-haiku-3.5", "Claude Haiku 3.5", (20.0, 70.0), None, "estimated",
       ("0.74", "3.70"), ("aws", "gcp"), 2),
    _m("anthropic/claude-sonnet-4", "Claude Sonnet 4", (150.0, 1000.0), (40.0, 200.0),
       "estimated", ("2.76", "13.80"), ("aws", "gcp"), 1, reasoning=True),
    _m("qwen/qwen3-235b-a22b", "Qwen3 235B A22B", 235, 22, "verified",
       ("0.18", "0.54"), ("together", "fireworks", "ovh"), 2, reasoning=True),
    _m("qwen/qwen3-30b-a3b", "Qwen3 30B A3B", 30.5, 3.3, "verified",
       ("0.07", "0.27"), ("together", "fireworks", "scaleway"), 3, reasoning=True),
    _m("qwen/qwen2.5-coder-32b", "Qwen2.5 Coder 32B", 32.8, None, "verified",
       ("0.07", "0.18"), ("together", "scaleway", "ovh"), 2),
    _m("deepseek/deepseek-v3", "DeepSeek V3", 671, 37, "verified",
       ("0.25", "1.00"), ("together", "fireworks", "azure"), 2),
    _m("deepseek/deepseek-r1", "DeepSeek R1", 671, 37, "verified",
       ("0.50", "2.00"), ("together", "fireworks", "azure"), 1, reasoning=True),
    _m("microsoft/phi-4", "Phi-4", 14.7, None, "verified",
       ("0.06", "0.13"), ("azure", "fireworks"), 2),
    _m("cohere/command-r-plus", "Command R+", 104, None, "verified",
       ("2.30", "9.20"), ("azure", "aws"), 1),
)
# fmt: on

MODEL_BY_ID: dict[str, Model] = {m.id: m for m in MODELS}
AUTO_MODEL = "lowrouter/auto"
DEFAULT_BASELINE_MODEL = "meta-llama/llama-3.1-70b-instruct"


def confidence(model: Model) -> tuple[str, list[str]]:
    """Eco confidence and caveats implied by how well a model's size is known."""
    if model.params_status == "verified":
        return "verified", []
    low, high = _span(model.params_total)
    if high / max(low, 1e-9) > 4.0:
        return "low", [
            "model parameter count is estimated",
            "published information on the model architecture is scarce",
        ]
    return "estimated", ["model parameter count is estimated"]


def _span(value: Params) -> tuple[float, float]:
    """Low/high of a parameter count."""
    if isinstance(value, tuple):
        return value
    return value, value


def routes() -> list[tuple[str, str, str]]:
    """Every (model id, provider, region) the synthetic traffic may use."""
    out = []
    for model in MODELS:
        for provider in model.providers:
            for region in PROVIDERS[provider].regions:
                out.append((model.id, provider, region))
    return out
