# Tailwire. `make demo` runs the whole thing; `make test` is the test command.
MVN ?= mvn -B -q
JAR := target/tailwire.jar
# The simulator, out of the shipping jar; bin/udp-sim needs both.
SIM_JAR := target/tailwire-sim.jar

.PHONY: build test e2e demo bench bench-full soak clean

build: $(JAR) $(SIM_JAR)

$(JAR) $(SIM_JAR): pom.xml $(shell find src sim -type f 2>/dev/null)
	$(MVN) package -DskipTests

test:
	rm -rf target/surefire-reports
	$(MVN) package
	@bash scripts/test-summary.sh
	bash scripts/artifact-test.sh
	bash scripts/e2e.sh

e2e: build
	bash scripts/e2e.sh

demo: build
	bash scripts/demo.sh

bench: build
	bash bench/run.sh quick

bench-full: build
	bash bench/run.sh full

soak: build
	bin/udp-sim --seed 1 --runs 2000

clean:
	$(MVN) clean
	rm -rf bench/target
