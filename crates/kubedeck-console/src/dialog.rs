//! The dialogs an action goes through: a small form for its parameters
//! (replicas, image, grace period), a wait while the runtime plans it, and
//! the confirm dialog that carries the exact `Confirmation`. Pure data and
//! pure key handling; `update` drives them.

use super::input::key::{Code, Key};
use super::theme::Role;
use kubedeck_core::actions::{
    Command, Confirmation, DrainOptions, ObjectRef, Propagation, ResourceRef, WorkloadRef,
};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dialog {
    Form(Form),
    /// The runtime reads the cluster around the command and asks RBAC.
    Planning {
        id: u64,
        summary: String,
        /// A key came before the consequences: it confirmed nothing, and
        /// the dialog says so rather than drop it silently.
        early: Option<EarlyKey>,
    },
    Confirm(ConfirmDialog),
    /// A recovery test's confirmation or a runbook's question.
    Ops(super::oncall::OpsDialog),
    /// An edit the server refused, or whose editor failed: what it offers.
    Edit(super::edit::EditProblem),
}

/// What a confirm dialog says when Enter came before it was shown.
pub(crate) const EARLY_ACCEPT_NOTE: &str = "Enter came before these were shown and confirmed nothing: read them, then press Enter to confirm.";

/// A key pressed while the dialog was still checking consequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EarlyKey {
    /// Enter: the user meant to confirm what they had not yet seen.
    Accept,
    Other,
}

impl EarlyKey {
    pub(crate) fn note(self) -> &'static str {
        match self {
            EarlyKey::Accept => {
                "still checking consequences — Enter did not confirm; press it again once they are shown"
            }
            EarlyKey::Other => "still checking consequences — only esc works until they are shown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HpaBounds {
    pub hpa: ObjectRef,
    pub min: i32,
    pub max: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormKind {
    Scale {
        target: WorkloadRef,
        from: i32,
        hpa: Option<HpaBounds>,
    },
    SetImage {
        target: WorkloadRef,
        /// (name, image) of each container, in spec order.
        containers: Vec<(String, String)>,
    },
    DeletePod {
        pod: ObjectRef,
    },
    /// Any other object: what becomes of what it owns.
    DeleteResource {
        object: ResourceRef,
    },
    /// The recovery test's parameters; `ops` reads them, not `command`.
    RecoveryTest {
        target: WorkloadRef,
    },
    /// kubectl drain's choices for a node.
    Drain {
        node: String,
    },
    /// A port-forward's ports; `ops` reads them, not `command`.
    PortForward {
        target: kubedeck_core::portforward::Target,
    },
    /// Which key of a Secret to reveal; `reveal` reads it, not `command`.
    RevealKey {
        secret: super::reveal::SecretRef,
    },
}

/// A text field, or a choice among `choices` when there are any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub label: &'static str,
    pub value: String,
    pub choices: Vec<String>,
}

impl Field {
    pub(crate) fn text(label: &'static str, value: impl Into<String>) -> Field {
        Field {
            label,
            value: value.into(),
            choices: Vec::new(),
        }
    }

    pub(crate) fn choice(label: &'static str, choices: Vec<String>) -> Field {
        Field {
            label,
            value: choices.first().cloned().unwrap_or_default(),
            choices,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Form {
    pub kind: FormKind,
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// What the user should know before choosing (an HPA manages this…).
    pub notes: Vec<(String, Role)>,
    pub error: Option<String>,
}

const DELETE: &str = "delete";
const YES: &str = "yes";
const NO: &str = "no";
const EVICT: &str = "evict (eviction API, honours PodDisruptionBudgets)";

impl Form {
    pub(crate) fn scale(target: WorkloadRef, from: i32, hpa: Option<HpaBounds>) -> Form {
        let mut fields = vec![Field::text("replicas", from.to_string())];
        let mut notes = Vec::new();
        if let Some(h) = &hpa {
            notes.push((
                format!(
                    "HPA {} manages this {}: it will override a new replica count (it keeps {}–{}).",
                    h.hpa.name,
                    target.kind.singular(),
                    h.min,
                    h.max
                ),
                Role::Warning,
            ));
            notes.push((
                "To change the HPA's bounds instead, edit min and max (tab moves).".into(),
                Role::Muted,
            ));
            fields.push(Field::text("HPA min", h.min.to_string()));
            fields.push(Field::text("HPA max", h.max.to_string()));
        }
        Form {
            title: format!("Scale {}/{}", target.kind.singular(), target.name),
            kind: FormKind::Scale { target, from, hpa },
            fields,
            focus: 0,
            notes,
            error: None,
        }
    }

    pub(crate) fn set_image(target: WorkloadRef, containers: Vec<(String, String)>) -> Form {
        let names = containers.iter().map(|(n, _)| n.clone()).collect();
        let image = containers
            .first()
            .map(|(_, i)| i.clone())
            .unwrap_or_default();
        Form {
            title: format!("Set image of {}/{}", target.kind.singular(), target.name),
            kind: FormKind::SetImage { target, containers },
            fields: vec![
                Field::choice("container", names),
                Field::text("image", image),
            ],
            focus: 1,
            notes: vec![("←/→ on container picks another one.".into(), Role::Muted)],
            error: None,
        }
    }

    pub(crate) fn delete_pod(pod: ObjectRef) -> Form {
        Form {
            title: format!("Delete pod/{}", pod.name),
            kind: FormKind::DeletePod { pod },
            fields: vec![
                Field::choice("how", vec![DELETE.into(), EVICT.into()]),
                Field::text("grace period (s)", ""),
            ],
            focus: 0,
            notes: vec![(
                "An empty grace period uses the pod's own; ctrl-k kills at once.".into(),
                Role::Muted,
            )],
            error: None,
        }
    }

    /// `kubectl delete --cascade`'s choice, background first as kubectl's
    /// default; the confirm dialog then says what goes with the object.
    pub(crate) fn delete_resource(object: ResourceRef) -> Form {
        let cascades = Propagation::ALL
            .iter()
            .map(|p| p.cascade().to_string())
            .collect();
        Form {
            title: format!("Delete {}", object.slashed()),
            kind: FormKind::DeleteResource { object },
            fields: vec![Field::choice("cascade", cascades)],
            focus: 0,
            notes: vec![(
                "What it owns: background deletes it after the object, foreground before, orphan keeps it. ←/→ changes; the next step says what goes.".into(),
                Role::Muted,
            )],
            error: None,
        }
    }

    /// kubectl drain's flags as choices. DaemonSet pods are left by
    /// default: their controller tolerates the cordon and would put them
    /// back, which is why k9s leaves them too.
    pub(crate) fn drain(node: String) -> Form {
        let choice = |label, first: &str, second: &str| {
            Field::choice(label, vec![first.to_string(), second.to_string()])
        };
        let timeout = format!(
            "{}m",
            kubedeck_core::actions::drain::DEFAULT_TIMEOUT.as_secs() / 60
        );
        Form {
            title: format!("Drain node/{node}"),
            kind: FormKind::Drain { node },
            fields: vec![
                choice("ignore DaemonSets", YES, NO),
                choice("delete emptyDir", NO, YES),
                choice("force", NO, YES),
                Field::text("timeout", timeout),
            ],
            focus: 0,
            notes: vec![
                (
                    "Cordons the node, then evicts its pods through the eviction API, which honours PodDisruptionBudgets.".into(),
                    Role::Muted,
                ),
                (
                    "delete emptyDir evicts pods whose emptyDir data is lost with them; force evicts pods no controller replaces. ←/→ changes a choice.".into(),
                    Role::Muted,
                ),
            ],
            error: None,
        }
    }

    pub(crate) fn move_focus(&mut self, forward: bool) {
        let n = self.fields.len();
        self.focus = if forward {
            (self.focus + 1) % n
        } else {
            (self.focus + n - 1) % n
        };
    }

    /// Edits the focused field; false if the key means nothing here.
    pub(crate) fn edit(&mut self, key: Key) -> bool {
        if key.ctrl || key.alt {
            return false;
        }
        let focus = self.focus;
        let Some(field) = self.fields.get_mut(focus) else {
            return false;
        };
        if !field.choices.is_empty() {
            let at = field
                .choices
                .iter()
                .position(|c| *c == field.value)
                .unwrap_or(0);
            let n = field.choices.len();
            let next = match key.code {
                Code::Right | Code::Char(' ') => (at + 1) % n,
                Code::Left => (at + n - 1) % n,
                _ => return false,
            };
            field.value = field.choices[next].clone();
            // A new container: offer its image to edit.
            if let FormKind::SetImage { containers, .. } = &self.kind
                && let Some((_, image)) = containers.get(next)
                && let Some(f) = self.fields.get_mut(1)
            {
                f.value = image.clone();
            }
            self.error = None;
            return true;
        }
        match key.code {
            Code::Backspace => {
                field.value.pop();
            }
            Code::Char(c) => field.value.push(c),
            _ => return false,
        }
        self.error = None;
        true
    }

    fn number(&self, i: usize) -> Result<i64, String> {
        let f = &self.fields[i];
        f.value
            .trim()
            .parse()
            .map_err(|_| format!("{} must be a whole number, not {:?}", f.label, f.value))
    }

    /// The command the form describes, checked as the executor will.
    pub(crate) fn command(&self) -> Result<Command, String> {
        let cmd = match &self.kind {
            FormKind::Scale { target, from, hpa } => {
                let to = i32::try_from(self.number(0)?).map_err(|_| "replicas is out of range")?;
                let bounds = match hpa {
                    Some(h) => {
                        let min = i32::try_from(self.number(1)?)
                            .map_err(|_| "HPA min is out of range")?;
                        let max = i32::try_from(self.number(2)?)
                            .map_err(|_| "HPA max is out of range")?;
                        (min != h.min || max != h.max).then_some((h, min, max))
                    }
                    None => None,
                };
                match bounds {
                    Some(_) if to != *from => {
                        return Err(
                            "change either the replicas or the HPA's bounds, not both".into()
                        );
                    }
                    Some((h, min, max)) => Command::SetHpaBounds {
                        hpa: h.hpa.clone(),
                        from_min: h.min,
                        from_max: h.max,
                        min,
                        max,
                    },
                    None if to == *from => {
                        return Err(format!("{} already has {from} replicas", target.name));
                    }
                    None => Command::Scale {
                        target: target.clone(),
                        from: *from,
                        to,
                    },
                }
            }
            FormKind::SetImage { target, containers } => {
                let name = &self.fields[0].value;
                let from = containers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, i)| i.clone())
                    .ok_or_else(|| format!("no container named {name:?}"))?;
                let to = self.fields[1].value.trim().to_string();
                if to == from {
                    return Err(format!("container {name} already runs {from}"));
                }
                Command::SetImage {
                    target: target.clone(),
                    container: name.clone(),
                    from,
                    to,
                }
            }
            FormKind::DeletePod { pod } => {
                if self.fields[0].value == EVICT {
                    Command::EvictPod { pod: pod.clone() }
                } else {
                    let grace = if self.fields[1].value.trim().is_empty() {
                        None
                    } else {
                        Some(self.number(1)?)
                    };
                    Command::DeletePod {
                        pod: pod.clone(),
                        grace_seconds: grace,
                        force: false,
                    }
                }
            }
            FormKind::DeleteResource { object } => Command::DeleteResource {
                object: object.clone(),
                propagation: Propagation::from_cascade(&self.fields[0].value)
                    .ok_or_else(|| format!("no cascade {:?}", self.fields[0].value))?,
            },
            FormKind::RecoveryTest { .. } => {
                return Err("a recovery test is not a single command".into());
            }
            FormKind::Drain { node } => {
                let timeout = kubedeck_kube::duration::parse(&self.fields[3].value)
                    .map_err(|e| format!("timeout: {e}"))?;
                Command::Drain {
                    node: node.clone(),
                    options: DrainOptions {
                        ignore_daemonsets: self.fields[0].value == YES,
                        delete_emptydir_data: self.fields[1].value == YES,
                        force: self.fields[2].value == YES,
                        // Whole seconds, rounded up; 0 waits as long as it takes.
                        timeout_seconds: timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0),
                    },
                }
            }
            FormKind::PortForward { .. } => {
                return Err("a port-forward is not a single command".into());
            }
            FormKind::RevealKey { .. } => {
                return Err("revealing a key changes nothing: it is no command".into());
            }
        };
        cmd.validate()?;
        Ok(cmd)
    }
}

/// The confirm dialog: the exact confirmation, whether RBAC allows it, and
/// the typed name a protected context asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConfirmDialog {
    pub confirmation: Confirmation,
    /// Why RBAC says no; Enter still tries, and the API server decides.
    pub denied: Option<String>,
    pub typed: String,
    pub error: Option<String>,
    /// Enter came while planning: say it confirmed nothing, so the next
    /// Enter is the one that does.
    pub early_accept: bool,
}

impl ConfirmDialog {
    pub(crate) fn new(confirmation: Confirmation, denied: Option<String>) -> ConfirmDialog {
        ConfirmDialog {
            confirmation,
            denied,
            typed: String::new(),
            error: None,
            early_accept: false,
        }
    }

    /// Typing goes to the name field, when there is one.
    pub(crate) fn edit(&mut self, key: Key) -> bool {
        if self.confirmation.typed_name().is_none() || key.ctrl || key.alt {
            return false;
        }
        match key.code {
            Code::Backspace => {
                self.typed.pop();
            }
            Code::Char(c) => self.typed.push(c),
            _ => return false,
        }
        self.error = None;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        s.parse().expect("test key parses")
    }

    fn type_into(form: &mut Form, text: &str) {
        for c in text.chars() {
            form.edit(Key::plain(c));
        }
    }

    #[test]
    fn a_scale_form_under_an_hpa_scales_or_changes_the_bounds() {
        let hpa = HpaBounds {
            hpa: ObjectRef::new("demo", "web"),
            min: 2,
            max: 4,
        };
        let mut form = Form::scale(WorkloadRef::deployment("demo", "web"), 2, Some(hpa));
        assert!(form.notes[0].0.contains("HPA web manages this deployment"));
        assert_eq!(form.command().unwrap_err(), "web already has 2 replicas");
        form.edit(key("backspace"));
        type_into(&mut form, "5");
        assert_eq!(
            form.command(),
            Ok(Command::Scale {
                target: WorkloadRef::deployment("demo", "web"),
                from: 2,
                to: 5
            })
        );
        form.move_focus(true);
        form.move_focus(true);
        form.edit(key("backspace"));
        type_into(&mut form, "8");
        assert!(form.command().unwrap_err().contains("not both"));
        form.move_focus(false);
        form.move_focus(false);
        form.edit(key("backspace"));
        type_into(&mut form, "2");
        assert_eq!(
            form.command(),
            Ok(Command::SetHpaBounds {
                hpa: ObjectRef::new("demo", "web"),
                from_min: 2,
                from_max: 4,
                min: 2,
                max: 8
            })
        );
        type_into(&mut form, "x");
        assert_eq!(
            form.command().unwrap_err(),
            "replicas must be a whole number, not \"2x\""
        );
    }

    #[test]
    fn the_image_form_follows_the_chosen_container() {
        let mut form = Form::set_image(
            WorkloadRef::deployment("shop", "api"),
            vec![
                ("api".into(), "api:2.0".into()),
                ("proxy".into(), "proxy:1.2".into()),
            ],
        );
        assert_eq!(form.fields[1].value, "api:2.0");
        form.move_focus(false);
        assert!(form.edit(key("right")));
        assert_eq!(form.fields[0].value, "proxy");
        assert_eq!(form.fields[1].value, "proxy:1.2");
        form.move_focus(true);
        type_into(&mut form, "-fixed");
        assert_eq!(
            form.command(),
            Ok(Command::SetImage {
                target: WorkloadRef::deployment("shop", "api"),
                container: "proxy".into(),
                from: "proxy:1.2".into(),
                to: "proxy:1.2-fixed".into()
            })
        );
        type_into(&mut form, " x");
        assert!(
            form.command()
                .unwrap_err()
                .contains("not an image reference")
        );
    }

    #[test]
    fn the_delete_form_of_any_resource_chooses_the_cascade() {
        let cm = ResourceRef {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
            namespace: Some("demo".into()),
            name: "web".into(),
        };
        let mut form = Form::delete_resource(cm.clone());
        assert_eq!(form.title, "Delete deployment.apps/web");
        let chosen = |form: &Form| match form.command() {
            Ok(Command::DeleteResource {
                object,
                propagation,
            }) if object == cm => propagation,
            other => panic!("{other:?}"),
        };
        assert_eq!(chosen(&form), Propagation::Background);
        assert!(form.edit(key("right")));
        assert_eq!(chosen(&form), Propagation::Foreground);
        assert!(form.edit(key("right")));
        assert_eq!(chosen(&form), Propagation::Orphan);
        assert!(form.edit(key("right")));
        assert_eq!(chosen(&form), Propagation::Background);
        assert!(form.edit(key("left")));
        assert_eq!(chosen(&form), Propagation::Orphan);
        assert!(!form.edit(key("x")), "a choice takes no text");
    }

    #[test]
    fn the_delete_form_chooses_between_delete_and_evict() {
        let mut form = Form::delete_pod(ObjectRef::new("demo", "web-1"));
        assert!(matches!(
            form.command(),
            Ok(Command::DeletePod {
                grace_seconds: None,
                force: false,
                ..
            })
        ));
        form.move_focus(true);
        type_into(&mut form, "5");
        assert!(matches!(
            form.command(),
            Ok(Command::DeletePod {
                grace_seconds: Some(5),
                ..
            })
        ));
        form.move_focus(true);
        form.edit(key("space"));
        assert_eq!(
            form.command(),
            Ok(Command::EvictPod {
                pod: ObjectRef::new("demo", "web-1")
            })
        );
    }
}
