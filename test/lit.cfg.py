# lit configuration: every .mlir and .test file under test/ (except the unit and runtime
# folders) is a test; RUN lines see kiln, kiln-opt, FileCheck and not on PATH.
import os
import lit.formats

config.name = "kiln"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.excludes = ["unit", "runtime", "torch", "e2e", "fuzz", "inputs", "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_build_dir, "test")
config.environment["PATH"] = os.pathsep.join(
    [config.kiln_bin_dir, config.llvm_bin_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%bin", config.kiln_bin_dir))
config.substitutions.append(("%models", os.path.join(config.kiln_build_dir, "models")))
config.substitutions.append(("%kiln_src", config.kiln_source_dir))
