package repo

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the model repository's Prometheus metrics. Create them with NewMetrics and register
// Collectors() once.
type Metrics struct {
	// LoadFailures counts versions that failed to load or warm up (version "0" for an echo model;
	// the newest version folder when the config itself is invalid).
	LoadFailures *prometheus.CounterVec
	// Versions is 1 for every loaded version, with its state (serving, draining), backend,
	// execution provider and CUDA fallback reason.
	Versions *prometheus.GaugeVec
	// LoadSeconds and WarmupSeconds time each successful load and its warm-up runs.
	LoadSeconds   *prometheus.HistogramVec
	WarmupSeconds *prometheus.HistogramVec
	// InferenceSeconds times each batch run, by model and batch size.
	InferenceSeconds *prometheus.HistogramVec
	// Swaps counts versions put into service (the first load included).
	Swaps *prometheus.CounterVec
	// Ready is 1 for models with a version serving, 0 for models present but not serving.
	Ready *prometheus.GaugeVec
}

// NewMetrics creates the metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		LoadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nnrp_model_load_failures_total",
			Help: "Model versions that failed to load or warm up; the serving version stays in place.",
		}, []string{"model", "version"}),
		Versions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "nnrp_model_version_info",
			Help: "1 per loaded model version, with its state (serving, draining), backend, execution provider and CUDA fallback reason.",
		}, []string{"model", "version", "state", "backend", "provider", "fallback_reason"}),
		LoadSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nnrp_model_load_seconds",
			Help:    "Time to read, check and open a model version (without warm-up).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"model"}),
		WarmupSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nnrp_model_warmup_seconds",
			Help:    "Time of a model version's warm-up runs.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"model"}),
		InferenceSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nnrp_model_inference_seconds",
			Help:    "Time of one batch run, by model and batch size (tiles).",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 18),
		}, []string{"model", "batch"}),
		Swaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nnrp_model_swaps_total",
			Help: "Model versions put into service (including the first).",
		}, []string{"model"}),
		Ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "nnrp_model_ready",
			Help: "1 when the model has a warm version serving, 0 when it is present but not serving.",
		}, []string{"model"}),
	}
}

// Collectors returns every metric, for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.LoadFailures, m.Versions, m.LoadSeconds, m.WarmupSeconds, m.InferenceSeconds, m.Swaps, m.Ready}
}

// maxLabel bounds the fallback reason label (ORT's messages can be long).
const maxLabel = 200

func (m *Metrics) setVersion(mod *Model, state string) {
	reason := mod.info.FallbackReason
	if len(reason) > maxLabel {
		reason = reason[:maxLabel]
	}
	v := strconv.Itoa(mod.version)
	m.Versions.DeletePartialMatch(prometheus.Labels{"model": mod.name, "version": v})
	if state != "" {
		m.Versions.WithLabelValues(mod.name, v, state, mod.info.Kind, mod.info.Provider, reason).Set(1)
	}
}
