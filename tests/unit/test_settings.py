"""Settings layering: defaults < upravdolg.toml < UPRAVDOLG_* < CLI, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.errors import ConfigError
from dialer.settings import load_settings, parse_overrides


@pytest.fixture(autouse=True)
def _no_toml_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "upravdolg.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings(environ={})
    assert s.database.url == "sqlite:///upravdolg.db"
    assert (s.ami.host, s.ami.port, s.ami.username) == ("127.0.0.1", 5038, "upravdolg")
    assert s.organisation.timezone == "Europe/Moscow"


def test_each_layer_overrides_the_one_below(tmp_path: Path) -> None:
    path = write(tmp_path, '[ami]\nport = 6001\nhost = "10.0.0.1"\n[database]\nurl = "sqlite:///a.db"\n')
    env = {"UPRAVDOLG_AMI_PORT": "6002", "UPRAVDOLG_DATABASE_URL": "sqlite:///b.db"}
    s = load_settings(path, environ=env, cli_layer=parse_overrides(["ami.port=6003"]))
    assert s.ami.port == 6003, "CLI beats environment"
    assert s.database.url == "sqlite:///b.db", "environment beats the file"
    assert s.ami.host == "10.0.0.1", "the file beats defaults"


def test_upravdolg_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    write(tmp_path, '[organisation]\nname = "ТСЖ «Берёзка»"\n')
    assert load_settings(environ={}).organisation.name == "ТСЖ «Берёзка»"


def test_config_file_from_environment(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("[agi]\nlisten_port = 4600\n")
    assert load_settings(environ={"UPRAVDOLG_CONFIG": str(other)}).agi.listen_port == 4600


def test_secret_comes_from_environment_or_file(tmp_path: Path) -> None:
    assert load_settings(environ={"UPRAVDOLG_AMI_SECRET": "s3"}).ami.read_secret() == "s3"
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n")
    s = load_settings(environ={"UPRAVDOLG_AMI_SECRET_FILE": str(secret_file)})
    assert s.ami.read_secret() == "from-file"
    assert "from-file" not in repr(s) and "s3" not in repr(
        load_settings(environ={"UPRAVDOLG_AMI_SECRET": "s3"})
    )


def test_missing_secret_file_says_how_to_fix(tmp_path: Path) -> None:
    s = load_settings(environ={"UPRAVDOLG_AMI_SECRET_FILE": str(tmp_path / "none")})
    with pytest.raises(ConfigError, match="UPRAVDOLG_AMI_SECRET is not set") as info:
        s.ami.read_secret()
    assert "upravdolg asterisk up" in str(info.value)


def test_a_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[ami]\nsecret = "oops"\n')
    with pytest.raises(ConfigError, match=r"\[ami\] secret must not be written"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("[ami]\nport = 99999\n", {}, "ami.port"),
        ("[ami]\nprot = 1\n", {}, "ami.prot"),
        ('[organisation]\ntimezone = "Mars/Base"\n', {}, "unknown time zone"),
        ("", {"UPRAVDOLG_AMI_PORT": "abc"}, "ami.port"),
        ("[ami\n", {}, "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, toml: str, env: dict[str, str], message: str) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ=env)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize("pair", ["ami.port", "port=1", ".port=1", "ami.=1"])
def test_bad_overrides(pair: str) -> None:
    with pytest.raises(ConfigError, match=r"section\.key=value"):
        parse_overrides([pair])


def test_the_example_file_documents_every_key() -> None:
    from dialer.settings import LISTS, Settings
    from dialer.topology import AsteriskServer, TrunkConfig

    example = Path(__file__).resolve().parents[2] / "upravdolg.example.toml"
    text = example.read_text(encoding="utf-8")
    for table, entry in zip(LISTS, (AsteriskServer, TrunkConfig), strict=True):
        assert f"[[{table}]]" in text, table
        for key in entry.model_fields:
            assert f"\n{key} =" in text or f"\n# {key} =" in text, f"[[{table}]] {key} undocumented"
    for section, model in Settings.model_fields.items():
        if section in LISTS:
            continue
        assert f"[{section}]" in text, section
        for key in model.annotation.model_fields:  # type: ignore[union-attr]
            assert f"\n{key} =" in text or f"\n# {key} =" in text, f"{section}.{key} undocumented"
