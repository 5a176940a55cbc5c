"""The Python column of scripts/crosscheck: every golden reference case through the Python binding
(network from IR JSON, forward, 20 trainer steps), printing the golden file's lines."""
import loom

for case in loom.reference_cases():
    forward, trained = case.run()
    print(forward)
    print(trained)
