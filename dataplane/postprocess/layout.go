package postprocess

import "fmt"

// inspectRaw handles the channels-first heads [1, C, N] of Ultralytics
// YOLOv8 and later, where the task decides how C splits.
func (m *Model) inspectRaw(md Metadata) error {
	channels := int(m.predShape[1])
	task := md.Task
	if task == "" {
		task = m.guessTask(md, channels)
	}
	m.Task = task
	switch task {
	case TaskDetect:
		m.Layout, m.NumClasses = LayoutRawDetect, channels-4
	case TaskSegment:
		if m.protoOutput < 0 {
			return fmt.Errorf("%w: segment model has output %v but no prototype output [1, nm, mh, mw]",
				ErrUnsupportedModel, m.predShape)
		}
		m.NumMasks = int(m.protoShape[1])
		m.Layout, m.NumClasses = LayoutSegment, channels-4-m.NumMasks
	case TaskPose:
		if err := checkKptShape(m.KptShape); err != nil {
			return err
		}
		m.Layout, m.NumClasses = LayoutPose, channels-4-m.KptShape[0]*m.KptShape[1]
	case TaskOBB:
		m.Layout, m.NumClasses = LayoutOBB, channels-5
	default:
		return fmt.Errorf("%w: metadata task %q does not fit output %v; want detect, segment, pose or obb",
			ErrUnsupportedModel, task, m.predShape)
	}
	if m.Task != TaskSegment {
		m.protoOutput, m.protoShape = -1, nil
	}
	return checkNames(md, m.NumClasses, m.predShape, task)
}

// guessTask infers the task of a model whose metadata has no task key.
func (m *Model) guessTask(md Metadata, channels int) Task {
	switch {
	case m.protoOutput >= 0:
		return TaskSegment
	case md.KptShape[0] > 0:
		return TaskPose
	case md.HasNames && channels-5 == len(md.Names):
		return TaskOBB
	}
	return TaskDetect
}

func checkKptShape(k [2]int) error {
	if k[0] < 1 || (k[1] != 2 && k[1] != 3) {
		return fmt.Errorf("%w: pose model has kpt_shape %v; want [keypoints, 2 or 3] with at least one keypoint",
			ErrUnsupportedModel, k)
	}
	return nil
}

// inspectEndToEnd handles outputs whose NMS ran inside the graph. Each row
// holds box, score and class, then the task's extra values.
func (m *Model) inspectEndToEnd(md Metadata) error {
	m.Layout, m.EndToEnd = LayoutEndToEnd, true
	m.Task = md.Task
	if m.Task == "" {
		m.Task = m.guessTask(Metadata{KptShape: md.KptShape}, 0)
	}
	extra := int(m.predShape[2]) - 6
	want := 0
	switch m.Task {
	case TaskDetect, TaskClassify:
		m.Task = TaskDetect
	case TaskSegment:
		if m.protoOutput < 0 {
			return fmt.Errorf("%w: end-to-end segment model has output %v but no prototype output",
				ErrUnsupportedModel, m.predShape)
		}
		m.NumMasks = int(m.protoShape[1])
		want = m.NumMasks
	case TaskPose:
		if err := checkKptShape(m.KptShape); err != nil {
			return err
		}
		want = m.KptShape[0] * m.KptShape[1]
	case TaskOBB:
		want = 1
	default:
		return fmt.Errorf("%w: metadata task %q does not fit end-to-end output %v; want detect, segment, pose or obb",
			ErrUnsupportedModel, m.Task, m.predShape)
	}
	if extra != want {
		return fmt.Errorf("%w: end-to-end %s output %v has %d values per detection; want %d",
			ErrUnsupportedModel, m.Task, m.predShape, 6+extra, 6+want)
	}
	if m.Task != TaskSegment {
		m.protoOutput, m.protoShape = -1, nil
	}
	m.NumClasses = len(md.Names)
	return nil
}
