"""Build anything the config names by `_target_` (layers, optimizers, callbacks, losses).

One place turns Hydra's multi-line instantiation errors into a one-line ConfigError that
names the config key, so every group reports a typo the same way.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from happysad.errors import ConfigError, first_line


def instantiate_spec(
    spec: DictConfig | dict,
    key: str,
    *,
    expect: type | tuple[type, ...] | None = None,
    example: str = "",
    name_target: bool = True,
    **kwargs: Any,
) -> Any:
    """`hydra.utils.instantiate(spec, **kwargs)`; any failure is a ConfigError naming `key`.

    `expect` checks the built object's type; `example` is a correct target shown when the
    target cannot be imported; with `name_target` the message reads "<key>: <target>: why".
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    plain = OmegaConf.to_container(spec, resolve=True) if isinstance(spec, DictConfig) else spec
    target = plain.get("_target_") if isinstance(plain, dict) else None
    prefix = f"{key}: {target}" if name_target else key
    try:
        obj = instantiate(plain, _convert_="all", **kwargs)
    except InstantiationException as err:
        msg = first_line(err)
        if "Error locating target" in str(err) or "not found" in msg.lower():
            hint = f" (is it spelled right? e.g. {example})" if example else ""
            msg = f"cannot import {target!r}{hint}"
        raise ConfigError(f"{prefix}: {msg}") from None
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{prefix}: {first_line(err)}") from None
    if expect is not None and not isinstance(obj, expect):
        raise ConfigError(f"{prefix}: built a {type(obj).__name__}, not what {key} needs")
    return obj
