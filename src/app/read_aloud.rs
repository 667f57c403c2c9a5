//! What "读给我听" says: a screen's title and its choices, in the screen's language, from the
//! state the screen is drawn from (never from what a resident typed: a phone number or a
//! description is not read out in a public place). Elderly mode says it by itself on every new
//! screen; a long press on a button says only that button (the screen passes its words).
//!
//! The words are the screen's own, from the same catalogue (`t!` looks up the very texts the
//! `.slint` files mark with `@tr`), so what is heard is what is shown.

use domain::catalogue::QuestionKind;
use domain::spoken::spoken_ticket;
use domain::{t, Language};

use super::controller::{Flow, State};
use super::ui::Screen;
use super::wizard::Step;

/// The words of the screen `state` shows, one sentence a line; empty for the staff's screens.
pub(crate) fn screen_words(state: &State) -> String {
    let lang = state.session.language;
    let config = &state.station.config;
    let mut words: Vec<String> = Vec::new();
    let screen = state.session.screen();
    match (&state.session.flow, screen) {
        (_, Screen::HighRisk) => {
            words.push(t!(lang, "您的安全最要紧").to_owned());
            words.push(
                t!(
                    lang,
                    "如果现在有危险，请马上拨打下面的电话，或请身边的人帮忙。您也可以继续说明情况。"
                )
                .to_owned(),
            );
            words.extend(emergency(state));
        }
        (Flow::Home(_), _) => {
            words.push(t!(lang, "您好！请选择您要办理的事项").to_owned());
            words.extend(
                config
                    .catalogue
                    .services
                    .iter()
                    .map(|s| s.name.get(lang).to_owned()),
            );
            words.push(t!(lang, "取号排队").to_owned());
            words.push(t!(lang, "预约律师/咨询").to_owned());
            words.push(t!(lang, "查询办理进度").to_owned());
        }
        (Flow::Intake(intake), _) => {
            let wizard = &intake.wizard;
            let Some(service) = config.catalogue.service(&wizard.draft.service) else {
                return String::new();
            };
            let name = service.name.get(lang);
            match wizard.step() {
                Step::Subtype => {
                    words.push(t!(lang, "{}：是哪一类事情？", name));
                    words.extend(service.subtypes.iter().map(|t| t.name.get(lang).to_owned()));
                }
                Step::Questions => {
                    words.push(t!(lang, "请点选符合的情况（可以不选）").to_owned());
                    let subtype = wizard
                        .draft
                        .subtype
                        .as_deref()
                        .and_then(|id| service.subtype(id));
                    for question in subtype.into_iter().flat_map(|t| service.questions_for(t)) {
                        words.push(question.label.get(lang).to_owned());
                        if let QuestionKind::Choice { options } = &question.kind {
                            let options: Vec<&str> =
                                options.iter().map(|o| o.label.get(lang)).collect();
                            words.push(options.join(t!(lang, "、")));
                        }
                    }
                }
                Step::Description => {
                    words.push(t!(lang, "想补充说明吗？（可以不写）").to_owned());
                    words.push(t!(lang, "例如：什么时候、在哪里、发生了什么。").to_owned());
                }
                Step::Contact => words.push(
                    if wizard.may_skip_phone(service, config) {
                        t!(lang, "留个电话，方便工作人员联系您（也可以匿名）")
                    } else {
                        t!(lang, "请留下电话，方便工作人员联系您")
                    }
                    .to_owned(),
                ),
                Step::Consent => {
                    words.push(t!(lang, "请看一下我们怎样使用您的信息").to_owned());
                    words.push(config.consent.text.get(lang).to_owned());
                    words.push(t!(lang, "我已了解，同意").to_owned());
                }
                Step::Review => {
                    words.push(t!(lang, "请核对，确认无误后提交").to_owned());
                    words.push(name.to_owned());
                }
            }
        }
        (Flow::Filed(result), _) => {
            words.push(t!(lang, "已登记，谢谢您！").to_owned());
            words.push(result.next_steps.clone());
            if result.high_risk {
                words.push(t!(lang, "紧急求助电话").to_owned());
                words.extend(emergency(state));
            }
        }
        (Flow::TakeNumber(_), Screen::Priority) => {
            words.push(t!(lang, "您是老年人、残疾人或孕妇吗？").to_owned());
            words.push(t!(lang, "是，优先叫号").to_owned());
            words.push(t!(lang, "不是，正常排队").to_owned());
        }
        (Flow::TakeNumber(_), _) => {
            words.push(t!(lang, "取号排队：您要办理哪一项？").to_owned());
            words.extend(
                config
                    .catalogue
                    .services
                    .iter()
                    .map(|s| s.name.get(lang).to_owned()),
            );
        }
        (Flow::Ticket(shown), _) => {
            words.push(t!(lang, "您的号码").to_owned());
            words.push(spoken_ticket(&shown.view.ticket.label));
            match shown.view.ahead {
                Some(0) => words.push(t!(lang, "下一位就是您").to_owned()),
                Some(n) => words.push(t!(lang, "前面还有 {} 人", n)),
                None => {}
            }
        }
        (Flow::Track(_), Screen::Track) => {
            words.push(t!(lang, "查询办理进度").to_owned());
            words.push(t!(lang, "输入凭条上的查询码，或把凭条上的二维码对准扫码口。").to_owned());
        }
        (Flow::Staff(_), _) => {}
        // The other screens: their title is their flow's name on Home.
        (Flow::Track(_), _) => words.push(t!(lang, "查询办理进度").to_owned()),
        (Flow::Book(_) | Flow::Booked(_) | Flow::Booking(_), _) => {
            words.push(t!(lang, "预约律师/咨询").to_owned())
        }
    }
    words.retain(|w| !w.trim().is_empty());
    words.join("\n")
}

/// The emergency numbers, each with its name ("110，报警").
fn emergency(state: &State) -> impl Iterator<Item = String> + '_ {
    let lang: Language = state.session.language;
    state.station.config.emergency.iter().map(move |e| {
        format!(
            "{}{}{}",
            spoken_number(&e.number),
            t!(lang, "，"),
            e.label.get(lang)
        )
    })
}

/// A telephone number said digit by digit ("1 1 0"), as numbers are read out in Chinese.
fn spoken_number(number: &str) -> String {
    let digits: Vec<String> = number
        .chars()
        .filter(char::is_ascii_digit)
        .map(String::from)
        .collect();
    digits.join(" ")
}

#[cfg(test)]
mod tests {
    use super::spoken_number;

    #[test]
    fn a_number_is_said_digit_by_digit() {
        assert_eq!(spoken_number("110"), "1 1 0");
        assert_eq!(spoken_number("0755-2345 6789"), "0 7 5 5 2 3 4 5 6 7 8 9");
    }
}
