import subprocess
import sys
from importlib.metadata import version

from edgekit._versions import package_versions


def test_installed_packages_have_their_version_and_absent_ones_none():
    versions = package_versions(["pydantic", "edgekit-no-such-package", "numpy"])
    assert list(versions) == ["pydantic", "edgekit-no-such-package", "numpy"]
    assert versions["pydantic"] == version("pydantic")
    assert versions["numpy"] == version("numpy")
    assert versions["edgekit-no-such-package"] is None


def test_looking_up_versions_imports_none_of_the_packages():
    code = (
        "import sys; from edgekit._versions import package_versions; "
        "assert package_versions(['torch', 'onnxruntime'])['torch']; "
        "print(sorted({'torch', 'onnxruntime'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
