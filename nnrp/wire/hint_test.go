package wire

import (
	"math/rand/v2"
	"testing"
)

func init() {
	registerMessage(ParseRouteHint)
	registerMessage(ParseExecutionHint)
}

func randomRouteHint(r *rand.Rand) RouteHint {
	return RouteHint{
		OperationID: r64(r), RouteID: r32(r), Executor: ExecutorClass(r16(r)),
		Affinity: AffinityClass(r16(r)), DeadlineUnixMS: r64(r), BodyBytes: r32(r),
		Flags: rBits(r, knownHintFlags),
	}
}

func randomExecutionHint(r *rand.Rand) ExecutionHint { return ExecutionHint(randomRouteHint(r)) }

func TestRouteHintCodec(t *testing.T)     { checkMessage(t, ParseRouteHint, randomRouteHint) }
func TestExecutionHintCodec(t *testing.T) { checkMessage(t, ParseExecutionHint, randomExecutionHint) }

func TestRouteHintRejects(t *testing.T) {
	rules := []rtCase[RouteHint]{
		{"flag 0x4", func(m *RouteHint) { m.Flags |= 0x4 }, func(b []byte) { b[28] |= 0x4 }},
		{"flag 0x80000000", func(m *RouteHint) { m.Flags = 0x80000000 }, func(b []byte) { b[31] = 0x80 }},
	}
	base := RouteHint{OperationID: 401, RouteID: 92, Executor: ExecutorGPUWorker, Affinity: AffinitySameNUMA,
		DeadlineUnixMS: 1800000000000, BodyBytes: 4, Flags: HintBestEffort}
	rtRejects(t, base, ParseRouteHint, rules)
	rtRejects(t, ExecutionHint(base), ParseExecutionHint,
		rtAs(rules, func(m *ExecutionHint) *RouteHint { return (*RouteHint)(m) }))
}
