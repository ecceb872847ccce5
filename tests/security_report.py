"""pytest plugin (`-p tests.security_report`): prints the security figures after the run."""

from tests.security_figures import FIGURES


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not FIGURES:
        return
    terminalreporter.section("WorkPro security summary")
    width = max(len(key) for key in FIGURES)
    for key in sorted(FIGURES):
        terminalreporter.write_line(f"{key.ljust(width)}  {FIGURES[key]}")
    terminalreporter.write_line("all figures asserted by their tests" if exitstatus == 0
                                else "SOME SECURITY TESTS FAILED: figures above are not all asserted")
