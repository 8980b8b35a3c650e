"""Every sentence the bot says, in Japanese like the community. Errors name what to fix.

The rules behind each error are the domain's (shared/invitations/validation.py); FIELD_RULES says
them in the members' words, keyed by the field the domain's 400 names.
"""

from __future__ import annotations

from shared.errors import ApiError

# -- invitation modal ------------------------------------------------------------------------------
INVITE_MODAL_TITLE = "お誘いを募集"
INVITE_FIELDS = {
    "event_name": ("イベント名", "例: 夜の観光ツアー"),
    "when": ("日時（日本時間）開始 - 終了", "例: 2025-02-01 21:00 - 23:30"),
    "world": (
        "ワールド名（2行目にワールドのURL・任意）",
        "The Great Pug\nhttps://vrchat.com/home/world/wrld_...",
    ),
    "description": ("説明", "どんな集まりか、持ち物、注意事項など"),
    "links": (
        "VRChatプロフィール / インスタンスURL（任意）",
        "1行に1つ: https://vrchat.com/home/user/usr_... など",
    ),
}
TICKET_MODAL_TITLE = "スタッフへの問い合わせ"
TICKET_FIELD = ("内容", "困っていること、質問したいことを書いてください")
TICKET_CONTENT_MAX = 1500

# -- replies ---------------------------------------------------------------------------------------
INVITE_ACCEPTED = "募集を受け付けました。まもなく <#{channel}> に投稿されます。"
INVITE_POSTED = "募集を投稿しました: {link}"
INVITE_FAILED = "募集を投稿できませんでした: {reason}"
JOINED = "「{event}」に参加しました（{joined}/{max}人）。"
INTERESTED = "「{event}」に興味ありで登録しました。"
LEFT = "「{event}」への参加を取り消しました（{joined}/{max}人）。"
CANCELLED = "「{event}」の募集を取り消しました。"
TAKEN = "「{event}」をスタッフ {name} さんが担当します。"
TICKET_OPENED = "問い合わせを受け付けました（チケット #{id}）。スタッフから連絡します。"
TICKET_CLOSED = "チケット #{id} をクローズしました。"
NOT_READY = "この募集はまだ準備中です。数秒後にもう一度お試しください。"
NO_INVITATIONS = "募集中のお誘いはありません。"
NO_PARTICIPATIONS = "参加予定・興味ありのお誘いはありません。"
NO_TICKETS = "該当するチケットはありません。"
STAFF_ONLY = "この操作はスタッフ専用です。"
GUILD_ONLY = "このコマンドはサーバー内で使ってください。"
WRONG_GUILD = "このサーバーではこのボットを使えません。"
UNKNOWN_ACTION = "この操作には対応していません。ボットが更新された可能性があります。"
INTERNAL = "エラーが発生しました。時間をおいてもう一度お試しください。"
NEXT_PAGE = "次へ"

# -- messages in channels --------------------------------------------------------------------------
BUTTON_JOIN = "参加する"
BUTTON_FULL = "満員"
BUTTON_LEAVE = "参加をやめる"
BUTTON_CANCEL = "募集を取り消す（主催者）"
BUTTON_TAKE = "スタッフ対応（スタッフ）"
BUTTON_CLOSE_TICKET = "クローズ"
STATUS_LABELS = {"recruiting": "募集中", "full": "満員", "completed": "終了", "cancelled": "取り消し"}
STAFF_NEW_INVITATION = "新しい募集: {link}"
STAFF_NEW_TICKET = "新しい問い合わせ（チケット #{id}）"

# -- the domain's errors, in the members' words ----------------------------------------------------
FIELD_RULES = {
    "eventName": "イベント名は1〜200文字の1行で入力してください。",
    "startTime": "開始日時を確認してください。",
    "endTime": "終了は開始より後で、まだ過ぎていない日時にしてください。",
    "worldName": "ワールド名は1〜200文字で入力してください。",
    "worldLink": "ワールドのURLは https:// で始まる500文字以内のURLにしてください。",
    "tag": "タグが正しくありません。",
    "description": "説明は1〜2000文字で入力してください。",
    "instanceType": "インスタンスの種類が正しくありません。",
    "vrchatProfile": "VRChatプロフィールは https://vrchat.com/ で始まるURLにしてください。",
    "instanceLink": "インスタンスURLは https:// で始まる500文字以内のURLにしてください。",
    "maxParticipants": "定員は1〜100人にしてください。",
    "hostName": "表示名が長すぎます（100文字まで）。",
    "userName": "表示名が長すぎます（100文字まで）。",
}
CODES = {
    "invitation_full": "満員のため参加できません。",
    "final_state": "この募集はすでに終了または取り消し済みです。",
    "not_found": "見つかりませんでした。",
    "permission_denied": "この操作は主催者かスタッフだけができます。",
    "already_closed": "このチケットはすでにクローズ済みです。",
    "already_exists": "すでに登録されています。",
    "below_joined": "参加者数より少ない定員にはできません。",
    "rate_limited": "操作が多すぎます。少し待ってからもう一度お試しください。",
    "busy": "混み合っています。少し待ってからもう一度お試しください。",
}
NOT_PARTICIPATING = "このお誘いには参加していません。"


def error_text(error: ApiError) -> str:
    """A domain error (the same ApiError the HTTP API answers with) as a sentence for members."""
    if error.status in (400, 422) and error.field in FIELD_RULES:
        return FIELD_RULES[error.field]
    if error.code == "not_found" and "take part" in error.message:
        return NOT_PARTICIPATING
    return CODES.get(error.code, INTERNAL if error.status >= 500 else "入力内容を確認してください。")
