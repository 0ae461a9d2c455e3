package enrol_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"borderid/enrol/biometric"
)

// benchData is one enrolment's uploads: a face of about 20 KB and ten
// finger image records (19794-4, PNG-compressed 200x250 images).
type benchData struct {
	face    []byte
	fingers [10][]byte
}

func newBenchData(b *testing.B) *benchData {
	d := &benchData{face: biometric.SyntheticJPEG(252, 336)}
	if _, err := biometric.ValidateFace(biometric.ContentTypeJPEG, d.face); err != nil {
		b.Fatal(err)
	}
	img := biometric.SyntheticPNG(200, 250)
	for i := range d.fingers {
		d.fingers[i] = biometric.FingerRecord(i+1, 200, 250, biometric.CompressionPNG, img)
	}
	return d
}

func (d *benchData) bytes() int {
	n := len(d.face)
	for _, f := range d.fingers {
		n += len(f)
	}
	return n
}

// reportLatency reports p50 and p99 of one operation and its rate.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)*99)/100]), "p99-ms")
	b.ReportMetric(float64(len(lat))/sum.Seconds(), "enrolments/s")
}

// BenchmarkEnrol: create + 20 KB face + 10 finger records + finalize, with
// validation, envelope encryption (software KEK: envelopetest) and an audit
// row per step, sequentially, one enrolment per iteration.
func BenchmarkEnrol(b *testing.B) {
	e := freshEnv(b, "bench")
	d := newBenchData(b)
	ctx := context.Background()
	b.SetBytes(int64(d.bytes()))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		id, err := e.svc.Create(ctx, clerk1, person)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, d.face); err != nil {
			b.Fatal(err)
		}
		for p, f := range d.fingers {
			if err := e.svc.PutFinger(ctx, clerk1, id, p+1, biometric.ContentTypeFinger, f); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.svc.Finalize(ctx, clerk1, id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkRawInsert: the same bytes and the same number of statements
// (one application row, eleven biometric rows, one state update, each its
// own transaction) as plain INSERTs by the owner into a table without
// row-level security, encryption, validation or audit: the floor the
// service's overhead is measured against.
func BenchmarkRawInsert(b *testing.B) {
	e := freshEnv(b, "bench")
	d := newBenchData(b)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS bench_raw_applications (id bigserial PRIMARY KEY, office text, surname text, given_names text,
			sex text, date_of_birth date, nationality text, document_type text, state text, created_by text, created_at timestamptz DEFAULT now())`,
		`CREATE TABLE IF NOT EXISTS bench_raw_biometrics (id bigserial PRIMARY KEY, application_id bigint, kind text, position int, data bytea)`,
	} {
		if _, err := e.owner.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(d.bytes()))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var id int64
		if err := e.owner.QueryRow(ctx, `INSERT INTO bench_raw_applications (office, surname, given_names, sex, date_of_birth,
			nationality, document_type, state, created_by) VALUES ('office1', $1, $2, $3, $4::text::date, $5, $6, 'draft', 'clerk-office1')
			RETURNING id`, person.Surname, person.GivenNames, person.Sex, person.DateOfBirth, person.Nationality, person.DocumentType).Scan(&id); err != nil {
			b.Fatal(err)
		}
		if _, err := e.owner.Exec(ctx, `INSERT INTO bench_raw_biometrics (application_id, kind, position, data) VALUES ($1, 'face', 0, $2)`, id, d.face); err != nil {
			b.Fatal(err)
		}
		for p, f := range d.fingers {
			if _, err := e.owner.Exec(ctx, `INSERT INTO bench_raw_biometrics (application_id, kind, position, data) VALUES ($1, 'finger', $2, $3)`, id, p+1, f); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := e.owner.Exec(ctx, `UPDATE bench_raw_applications SET state = 'finalized' WHERE id = $1`, id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}
